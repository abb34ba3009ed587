//! The wire format: a handshake, then length-prefixed frames.
//!
//! ```text
//! handshake (each side sends one, the connector first):
//!   MAGIC "\0LPM" | version: u16 BE | len: u32 BE | msgpack Hello {node, incarnation}
//! frame (connector -> acceptor only):
//!   len: u32 BE | msgpack str from_id | msgpack str to_id | msgpack str name | body
//! ```
//! The body is the message encoded by rmp-serde, written straight after the
//! three strings: it is the rest of the frame, so neither side copies it into
//! a nested byte string (one copy fewer on each side than a bin field). The
//! magic starts with a zero byte, which no HTTP request can, so the first byte
//! of a connection tells the acceptor which protocol it speaks.
//!
//! Every length is checked against `limits` before anything is allocated.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::codec::LengthDelimitedCodec;

use crate::limits::{MAX_FRAME_SIZE, MAX_HANDSHAKE_SIZE, MAX_ID_LEN, MAX_MESSAGE_NAME_LEN};
use crate::message::{encode_into, Message};

/// First bytes of every message connection.
pub const MAGIC: [u8; 4] = *b"\0LPM";
/// Version of this wire format; a peer with another one is refused.
pub const PROTOCOL_VERSION: u16 = 1;

/// What each side of a connection tells the other about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The address the node's Upids carry (its advertised address).
    pub node: SocketAddr,
    /// Random per node start: a restarted node at the same address differs.
    pub incarnation: u64,
}

/// Why bytes from a peer were refused. Every variant closes the connection.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("wrong magic {0:02x?} (not a libprocess peer)")]
    WrongMagic([u8; 4]),
    #[error("protocol version {0} not supported (this node speaks {PROTOCOL_VERSION})")]
    WrongVersion(u16),
    #[error("handshake of {0} bytes is over the limit of {MAX_HANDSHAKE_SIZE}")]
    HandshakeTooLarge(usize),
    #[error("malformed handshake: {0}")]
    MalformedHandshake(String),
    #[error("frame of {0} bytes is over the limit of {MAX_FRAME_SIZE}")]
    FrameTooLarge(usize),
    #[error("malformed frame: {0}")]
    MalformedFrame(String),
    #[error("message body cannot be encoded: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
}

/// Encodes a handshake.
pub fn encode_hello(hello: &Hello) -> Vec<u8> {
    let body = rmp_serde::to_vec(hello).expect("a Hello always encodes");
    let mut out = Vec::with_capacity(10 + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

/// Reads and checks a handshake.
pub async fn read_hello<R: AsyncRead + Unpin>(r: &mut R) -> Result<Hello, WireError> {
    let mut head = [0u8; 10];
    r.read_exact(&mut head).await?;
    let magic: [u8; 4] = head[..4].try_into().expect("4 bytes");
    if magic != MAGIC {
        return Err(WireError::WrongMagic(magic));
    }
    let version = u16::from_be_bytes([head[4], head[5]]);
    if version != PROTOCOL_VERSION {
        return Err(WireError::WrongVersion(version));
    }
    let len = u32::from_be_bytes(head[6..10].try_into().expect("4 bytes")) as usize;
    if len > MAX_HANDSHAKE_SIZE {
        return Err(WireError::HandshakeTooLarge(len));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    rmp_serde::from_slice(&body).map_err(|e| WireError::MalformedHandshake(e.to_string()))
}

/// The codec that splits a byte stream into frames, refusing oversized ones.
pub fn frame_codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder().length_field_length(4).max_frame_length(MAX_FRAME_SIZE).new_codec()
}

/// Appends one frame carrying `msg` to `buf`. On error nothing is appended.
pub fn encode_frame<M: Message>(buf: &mut BytesMut, from_id: &str, to_id: &str, msg: &M) -> Result<(), WireError> {
    let start = buf.len();
    let r = (|| {
        begin_frame(buf, from_id, to_id, M::NAME);
        encode_into(msg, &mut BytesWriter(buf))?;
        finish_frame(buf, start)
    })();
    if r.is_err() {
        buf.truncate(start);
    }
    r
}

/// As [`encode_frame`], for the node's sends: the envelope of this
/// thread's last frame is kept encoded and reused when from, to and name are
/// the same (the same `Arc`s, which the cache holds so that their memory is
/// not reused, and the same static name): one copy instead of three strings.
pub(crate) fn encode_frame_cached<M: Message>(
    buf: &mut BytesMut,
    from_id: &Arc<str>,
    to_id: &Arc<str>,
    msg: &M,
) -> Result<(), WireError> {
    let start = buf.len();
    LAST_ENVELOPE.with(|slot| {
        let Ok(mut slot) = slot.try_borrow_mut() else {
            return begin_frame(buf, from_id, to_id, M::NAME);
        };
        let hit = slot.as_ref().is_some_and(|e| {
            Arc::ptr_eq(&e.from, from_id) && Arc::ptr_eq(&e.to, to_id) && std::ptr::eq(e.name, M::NAME)
        });
        if !hit {
            let mut bytes = BytesMut::new();
            for s in [&**from_id, &**to_id, M::NAME] {
                put_str(&mut bytes, s);
            }
            *slot = Some(Envelope { from: from_id.clone(), to: to_id.clone(), name: M::NAME, bytes: bytes.to_vec() });
        }
        let bytes = &slot.as_ref().expect("filled above").bytes;
        buf.reserve(4 + bytes.len() + BODY_RESERVE);
        buf.put_u32(0); // patched by finish_frame
        buf.extend_from_slice(bytes);
    });
    let r = encode_into(msg, &mut BytesWriter(buf)).map_err(WireError::from).and_then(|()| finish_frame(buf, start));
    if r.is_err() {
        buf.truncate(start);
    }
    r
}

/// A frame's envelope, encoded (see `encode_frame_cached`).
struct Envelope {
    from: Arc<str>,
    to: Arc<str>,
    name: &'static str,
    bytes: Vec<u8>,
}

thread_local! {
    static LAST_ENVELOPE: RefCell<Option<Envelope>> = const { RefCell::new(None) };
}

/// Appends one frame whose body is already encoded (tests, tools and the
/// simulated transport use it to send exactly the bytes they mean to).
pub fn encode_raw_frame(
    buf: &mut BytesMut,
    from_id: &str,
    to_id: &str,
    name: &str,
    body: &[u8],
) -> Result<(), WireError> {
    let start = buf.len();
    begin_frame(buf, from_id, to_id, name);
    buf.extend_from_slice(body);
    let r = finish_frame(buf, start);
    if r.is_err() {
        buf.truncate(start);
    }
    r
}

/// Bytes reserved for a body before encoding it (a small message's fit).
const BODY_RESERVE: usize = 128;

fn begin_frame(buf: &mut BytesMut, from_id: &str, to_id: &str, name: &str) {
    buf.reserve(4 + 3 * 5 + from_id.len() + to_id.len() + name.len() + BODY_RESERVE);
    buf.put_u32(0); // patched by finish_frame
    for s in [from_id, to_id, name] {
        put_str(buf, s);
    }
}

/// A msgpack string, as `rmp::encode::write_str` writes it (the shortest
/// header), written straight into the buffer: through `io::Write` it cost
/// ~110 instructions per string.
#[inline]
fn put_str(buf: &mut BytesMut, s: &str) {
    let n = s.len();
    if n < 32 {
        buf.put_u8(0xa0 | n as u8);
    } else if n < 1 << 8 {
        buf.put_u8(0xd9);
        buf.put_u8(n as u8);
    } else if n < 1 << 16 {
        buf.put_u8(0xda);
        buf.put_u16(n as u16);
    } else {
        buf.put_u8(0xdb);
        buf.put_u32(n as u32);
    }
    buf.extend_from_slice(s.as_bytes());
}

/// `io::Write` into a `BytesMut` for rmp-serde, with `write_all` as one
/// append (`bytes::buf::Writer` goes through the default `write_all` loop
/// on each of rmp's small writes).
struct BytesWriter<'a>(&'a mut BytesMut);

impl std::io::Write for BytesWriter<'_> {
    #[inline]
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(b);
        Ok(b.len())
    }

    #[inline]
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        // rmp writes each marker alone: no copy call for one byte.
        match b {
            [one] => self.0.put_u8(*one),
            _ => self.0.extend_from_slice(b),
        }
        Ok(())
    }

    #[inline]
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn finish_frame(buf: &mut BytesMut, start: usize) -> Result<(), WireError> {
    let len = buf.len() - start - 4;
    if len > MAX_FRAME_SIZE {
        return Err(WireError::FrameTooLarge(len));
    }
    buf[start..start + 4].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(())
}

/// Bytes a frame reader asks each read to fill, at least. Small enough that
/// the messages of one read (~150 of 100 bytes) are handled while their
/// allocations are still in the allocator's cache; on the shared bench
/// machine 64 KiB reads were no faster.
const READ_CHUNK: usize = 16 * 1024;

/// Splits a byte stream into frames: read into [`FrameReader::buffer`], then
/// [`FrameReader::drain`]. The complete frames of a read are cut from the
/// read buffer as one chunk (one reference count for them all, no copy) and
/// handed over as views into it; the buffer is reused once the chunk is
/// dropped.
pub struct FrameReader {
    buf: BytesMut,
    /// The envelope (from, to, name) of the last frame, as bytes, and its
    /// parsed spans: a stream mostly repeats it, and a frame that starts
    /// with the same bytes is not parsed again.
    last: Vec<u8>,
    last_spans: Spans,
}

/// Byte ranges of from, to and name in a frame, and where the body starts.
#[derive(Debug, Clone, Copy, Default)]
struct Spans {
    from: (usize, usize),
    to: (usize, usize),
    name: (usize, usize),
    body: usize,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader { buf: BytesMut::with_capacity(READ_CHUNK), last: Vec::new(), last_spans: Spans::default() }
    }
}

impl FrameReader {
    /// The buffer to read into; it has room for a full read.
    pub fn buffer(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Bytes of an incomplete frame waiting for the next read.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Hands every complete frame in the buffer to `each`, in order. An
    /// oversized or malformed frame is an error (the connection must close);
    /// the frames before it were handed over.
    pub fn drain(&mut self, mut each: impl FnMut(FrameView<'_>)) -> Result<(), WireError> {
        // The complete frames first (lengths only), to cut them as one chunk.
        let (mut end, mut need, mut too_large) = (0, 0, None);
        while self.buf.len() - end >= 4 {
            let len = u32::from_be_bytes(self.buf[end..end + 4].try_into().expect("4 bytes")) as usize;
            if len > MAX_FRAME_SIZE {
                too_large = Some(WireError::FrameTooLarge(len));
                break;
            }
            if self.buf.len() - end - 4 < len {
                need = 4 + len;
                break;
            }
            end += 4 + len;
        }
        if end > 0 {
            let chunk = self.buf.split_to(end).freeze();
            let mut at = 0;
            while at < end {
                let len = u32::from_be_bytes(chunk[at..at + 4].try_into().expect("4 bytes")) as usize;
                let (start, stop) = (at + 4, at + 4 + len);
                at = stop;
                let frame = &chunk[start..stop];
                let (spans, repeat) = if !self.last.is_empty() && frame.starts_with(&self.last) {
                    // The same strings as the last frame's: already checked.
                    (self.last_spans, true)
                } else {
                    let spans = Spans::parse(frame)?;
                    self.last.clear();
                    self.last.extend_from_slice(&frame[..spans.body]);
                    self.last_spans = spans;
                    (spans, false)
                };
                each(FrameView { chunk: &chunk, start, stop, spans, repeat });
            }
        }
        if let Some(e) = too_large {
            return Err(e);
        }
        // Once the chunks handed over are dropped (a receiver decodes them
        // soon) the buffer is ours alone again and is reused in place.
        self.buf.reserve(need.max(READ_CHUNK));
        Ok(())
    }
}

/// One decoded frame, owned (the simulated transport carries these).
#[derive(Debug, Clone)]
pub struct WireEnvelope {
    frame: Bytes,
    spans: Spans,
}

/// One frame as a receiver sees it: a view into the chunk of frames it
/// arrived in (a whole read's, for TCP), so that no reference count is
/// taken per frame; a receiver keeping the body clones the chunk once.
#[derive(Debug, Clone, Copy)]
pub struct FrameView<'a> {
    chunk: &'a Bytes,
    /// The frame's payload (after its length prefix) within `chunk`.
    start: usize,
    stop: usize,
    spans: Spans,
    /// Its from, to and name are byte for byte those of the frame before it
    /// on the same connection (set by `FrameReader`).
    repeat: bool,
}

/// Reads one msgpack string off the front of `buf`. Ids and names are ASCII
/// in practice, checked in a few instructions; others get the full UTF-8 check.
fn read_str(buf: &[u8]) -> Result<(&str, &[u8]), String> {
    let (len, rd) = match buf.first() {
        // fixstr (up to 31 bytes): ids and names, nearly always.
        Some(&b) if b & 0xe0 == 0xa0 => ((b & 0x1f) as usize, &buf[1..]),
        _ => {
            let mut rd = buf;
            let len = rmp::decode::read_str_len(&mut rd).map_err(|e| e.to_string())?;
            (len as usize, rd)
        }
    };
    if rd.len() < len {
        return Err(format!("string of {len} bytes, {} left in the frame", rd.len()));
    }
    let (bytes, tail) = rd.split_at(len);
    let s = if bytes.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    } else {
        std::str::from_utf8(bytes).map_err(|e| e.to_string())?
    };
    Ok((s, tail))
}

impl Spans {
    /// Parses a frame's payload (the length prefix already removed).
    fn parse(frame: &[u8]) -> Result<Spans, WireError> {
        let mut rest: &[u8] = frame;
        let mut spans = [(0usize, 0usize); 3];
        for (i, (what, max)) in
            [("from", MAX_ID_LEN), ("to", MAX_ID_LEN), ("name", MAX_MESSAGE_NAME_LEN)].iter().enumerate()
        {
            let (s, tail) = read_str(rest).map_err(|e| WireError::MalformedFrame(format!("{what}: {e}")))?;
            if s.len() > *max {
                return Err(WireError::MalformedFrame(format!("{what} is {} bytes, over {max}", s.len())));
            }
            if s.is_empty() {
                return Err(WireError::MalformedFrame(format!("{what} is empty")));
            }
            let start = s.as_ptr() as usize - frame.as_ptr() as usize;
            spans[i] = (start, start + s.len());
            rest = tail;
        }
        let body = frame.len() - rest.len();
        Ok(Spans { from: spans[0], to: spans[1], name: spans[2], body })
    }
}

/// A span of `frame` that `Spans::parse` checked as UTF-8.
fn str_at(frame: &[u8], (a, b): (usize, usize)) -> &str {
    debug_assert!(std::str::from_utf8(&frame[a..b]).is_ok());
    // SAFETY: `Spans::parse` made this span from a `&str` that `read_str`
    // checked as UTF-8 (or `FrameReader` reused the spans of a frame whose
    // leading bytes, through the body's start, are identical), and frames
    // are immutable (`Bytes`). Checking again on every access cost ~5% of
    // the receive path.
    unsafe { std::str::from_utf8_unchecked(&frame[a..b]) }
}

impl WireEnvelope {
    /// Parses a frame's payload (the length prefix already removed).
    pub fn decode(frame: Bytes) -> Result<WireEnvelope, WireError> {
        let spans = Spans::parse(&frame)?;
        Ok(WireEnvelope { frame, spans })
    }

    pub fn from_id(&self) -> &str {
        str_at(&self.frame, self.spans.from)
    }

    pub fn to_id(&self) -> &str {
        str_at(&self.frame, self.spans.to)
    }

    pub fn name(&self) -> &str {
        str_at(&self.frame, self.spans.name)
    }

    /// The encoded message body (shares the frame's memory).
    pub fn body(&self) -> Bytes {
        self.frame.slice(self.spans.body..)
    }

    /// This frame as a receiver reads it.
    pub fn view(&self) -> FrameView<'_> {
        FrameView { chunk: &self.frame, start: 0, stop: self.frame.len(), spans: self.spans, repeat: false }
    }
}

impl<'a> FrameView<'a> {
    fn frame(&self) -> &'a [u8] {
        &self.chunk[self.start..self.stop]
    }

    pub fn from_id(&self) -> &'a str {
        str_at(self.frame(), self.spans.from)
    }

    pub fn to_id(&self) -> &'a str {
        str_at(self.frame(), self.spans.to)
    }

    pub fn name(&self) -> &'a str {
        str_at(self.frame(), self.spans.name)
    }

    /// Same from, to and name as the previous frame of its connection.
    pub(crate) fn repeats_previous(&self) -> bool {
        self.repeat
    }

    /// The encoded message body, borrowed.
    pub fn body_slice(&self) -> &'a [u8] {
        &self.frame()[self.spans.body..]
    }

    /// The chunk the frame is in (clone it to keep the body).
    pub(crate) fn chunk(&self) -> &'a Bytes {
        self.chunk
    }

    /// Where the frame's payload (after its length prefix) is in `chunk()`.
    pub(crate) fn payload_range(&self) -> (usize, usize) {
        (self.start, self.stop)
    }

    /// Where the body starts in the payload.
    pub(crate) fn body_offset(&self) -> usize {
        self.spans.body
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Buf;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Ping {
        seq: u64,
        text: String,
    }
    crate::message!(Ping, "test.Ping");

    #[test]
    fn frame_roundtrip() {
        let mut buf = BytesMut::new();
        let msg = Ping { seq: 7, text: "hi".into() };
        encode_frame(&mut buf, "a", "b(1)", &msg).unwrap();
        let len = (&buf[..4]).get_u32() as usize;
        assert_eq!(len, buf.len() - 4);
        let env = WireEnvelope::decode(buf.freeze().slice(4..)).unwrap();
        assert_eq!((env.from_id(), env.to_id(), env.name()), ("a", "b(1)", "test.Ping"));
        let back: Ping = rmp_serde::from_slice(&env.body()).unwrap();
        assert_eq!(back, msg);
    }

    #[test]
    fn cached_envelopes_encode_as_uncached_ones() {
        let (a, b): (Arc<str>, Arc<str>) = ("a".into(), "b(1)".into());
        let other: Arc<str> = "a".into(); // equal text, another Arc: a miss, same bytes
        let mut cached = BytesMut::new();
        let mut plain = BytesMut::new();
        for (from, seq) in [(&a, 1), (&a, 2), (&other, 3), (&b, 4), (&a, 5)] {
            let msg = Ping { seq, text: "x".repeat(seq as usize) };
            encode_frame_cached(&mut cached, from, &b, &msg).unwrap();
            encode_frame(&mut plain, from, &b, &msg).unwrap();
        }
        assert_eq!(cached, plain);
    }

    #[test]
    fn strings_are_written_as_rmp_writes_them() {
        for n in [0, 1, 31, 32, 255, 256, 65535, 65536] {
            let s = "x".repeat(n);
            let mut ours = BytesMut::new();
            put_str(&mut ours, &s);
            let mut theirs = Vec::new();
            rmp::encode::write_str(&mut theirs, &s).unwrap();
            assert_eq!(&ours[..], &theirs[..], "length {n}");
        }
    }

    #[test]
    fn rejects_malformed_frames() {
        assert!(WireEnvelope::decode(Bytes::from_static(b"\xff\xff")).is_err());
        assert!(WireEnvelope::decode(Bytes::new()).is_err());
        let mut buf = BytesMut::new();
        encode_raw_frame(&mut buf, "a", "b", &"n".repeat(MAX_MESSAGE_NAME_LEN + 1), b"").unwrap();
        let e = WireEnvelope::decode(buf.freeze().slice(4..)).unwrap_err();
        assert!(e.to_string().contains("name"), "{e}");
        // Truncated: the name string claims more bytes than there are.
        let mut buf = BytesMut::new();
        encode_raw_frame(&mut buf, "a", "b", "name", b"").unwrap();
        let cut = buf.freeze().slice(4..buf_len_minus(2));
        assert!(WireEnvelope::decode(cut).is_err());
    }

    fn buf_len_minus(n: usize) -> usize {
        // frame of "a","b","name": 4 + 2 + 2 + 5 bytes
        4 + 2 + 2 + 5 - n
    }

    #[test]
    fn frame_reader_splits_frames_across_reads() {
        let mut stream = BytesMut::new();
        for seq in 0..50 {
            encode_frame(&mut stream, "a", "b", &Ping { seq, text: "x".repeat(seq as usize * 7) }).unwrap();
        }
        let mut r = FrameReader::default();
        let mut got = Vec::new();
        // Feed the stream in odd-sized pieces: frames straddle reads.
        for piece in stream.chunks(37) {
            r.buffer().extend_from_slice(piece);
            r.drain(|env| got.push(rmp_serde::from_slice::<Ping>(env.body_slice()).unwrap().seq)).unwrap();
        }
        assert_eq!(got, (0..50).collect::<Vec<_>>());
        assert_eq!(r.pending(), 0);
        r.buffer().extend_from_slice(&((MAX_FRAME_SIZE + 1) as u32).to_be_bytes());
        assert!(matches!(r.drain(|_| panic!("no frame")), Err(WireError::FrameTooLarge(_))));
        let mut r = FrameReader::default();
        r.buffer().extend_from_slice(&[0, 0, 0, 2, 0xff, 0xff]);
        assert!(matches!(r.drain(|_| panic!("no frame")), Err(WireError::MalformedFrame(_))));
    }

    #[test]
    fn oversized_frame_is_refused_at_encode() {
        let mut buf = BytesMut::new();
        let big = vec![0u8; MAX_FRAME_SIZE + 1];
        assert!(matches!(encode_raw_frame(&mut buf, "a", "b", "n", &big), Err(WireError::FrameTooLarge(_))));
        assert!(buf.is_empty());
    }

    #[tokio::test]
    async fn hello_roundtrip_and_errors() {
        let h = Hello { node: "127.0.0.1:5050".parse().unwrap(), incarnation: 42 };
        let bytes = encode_hello(&h);
        assert_eq!(read_hello(&mut &bytes[..]).await.unwrap(), h);
        let mut bad = bytes.clone();
        bad[1] = b'X';
        assert!(matches!(read_hello(&mut &bad[..]).await, Err(WireError::WrongMagic(_))));
        let mut bad = bytes.clone();
        bad[5] = 9;
        assert!(matches!(read_hello(&mut &bad[..]).await, Err(WireError::WrongVersion(9))));
        let mut bad = bytes.clone();
        bad[6..10].copy_from_slice(&(1u32 << 20).to_be_bytes());
        assert!(matches!(read_hello(&mut &bad[..]).await, Err(WireError::HandshakeTooLarge(_))));
        assert!(matches!(read_hello(&mut &bytes[..5]).await, Err(WireError::Io(_))));
    }
}
