//! Remote messages for one process, still encoded, as the node hands them
//! to its queue: one item per read of a connection (and receiver).
//!
//! A batch holds the chunks of frames its messages are in (a read's frames,
//! cut from the connection's read buffer as one `Bytes`), their senders and
//! runs of frames. A run is consecutive frames of one chunk with the same
//! sender, receiver and name (the frame reader found their envelopes equal
//! byte for byte): it is extended by moving its end, and the actor walks
//! its frames by their length prefixes. So the reader's side costs a few
//! compares per message, and no reference count is taken per message on
//! either side (the actor clones the sender's `Upid` for each handler, as
//! handlers take it by value).

use std::ops::Range;

use bytes::Bytes;

use crate::pid::Upid;
use crate::wire::FrameView;

/// Runs a batch starts with room for (a batch mostly has one).
const RUNS_CAPACITY: usize = 4;

/// Remote messages for one process; see the module docs.
pub(crate) struct WireBatch {
    chunks: Vec<Bytes>,
    senders: Vec<Upid>,
    runs: Vec<Run>,
    /// Messages in the batch.
    len: usize,
}

/// Consecutive frames of one chunk with the same sender and name.
#[derive(Debug, Clone, Copy)]
struct Run {
    /// Index of the handler in the receiving mailbox's table.
    handler: usize,
    /// Index into `WireBatch::senders`.
    sender: usize,
    /// Index into `WireBatch::chunks`.
    chunk: usize,
    /// Where the body starts in each frame's payload (the same for all:
    /// their envelopes are equal).
    body: usize,
    /// The first frame's payload, in the chunk.
    first: (usize, usize),
    /// End of the last frame's payload; the frames after the first follow
    /// it in the chunk, each with its 4-byte length prefix.
    end: usize,
}

impl WireBatch {
    pub(crate) fn new() -> WireBatch {
        WireBatch { chunks: Vec::new(), senders: Vec::new(), runs: Vec::with_capacity(RUNS_CAPACITY), len: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The handler of the last message added, if any.
    pub(crate) fn last_handler(&self) -> Option<usize> {
        self.runs.last().map(|r| r.handler)
    }

    /// Adds a message for `handler` from `from`.
    pub(crate) fn push(&mut self, handler: usize, from: &Upid, env: &FrameView<'_>) {
        if self.senders.last() != Some(from) {
            self.senders.push(from.clone());
        }
        let sender = self.senders.len() - 1;
        self.start_run(handler, sender, env);
    }

    /// Adds a message whose sender and name are those of the last one
    /// added (which must exist): its frame repeats the last one's envelope.
    #[inline]
    pub(crate) fn push_again(&mut self, env: &FrameView<'_>) {
        let last = self.runs.last_mut().expect("a message was added before");
        let (start, stop) = env.payload_range();
        let chunk = env.chunk();
        let same_chunk = |c: &Bytes| c.as_ptr() == chunk.as_ptr() && c.len() == chunk.len();
        if start == last.end + 4 && same_chunk(&self.chunks[last.chunk]) {
            debug_assert_eq!(env.body_offset(), last.body);
            last.end = stop;
            self.len += 1;
        } else {
            let (handler, sender) = (last.handler, last.sender);
            self.start_run(handler, sender, env);
        }
    }

    fn start_run(&mut self, handler: usize, sender: usize, env: &FrameView<'_>) {
        let c = env.chunk();
        // Distinct live chunks never share memory (each is cut from a read
        // buffer, and the batch holds it): equal start and length is the
        // same chunk.
        match self.chunks.last() {
            Some(last) if last.as_ptr() == c.as_ptr() && last.len() == c.len() => {}
            _ => self.chunks.push(c.clone()),
        }
        let first = env.payload_range();
        let chunk = self.chunks.len() - 1;
        self.runs.push(Run { handler, sender, chunk, body: env.body_offset(), first, end: first.1 });
        self.len += 1;
    }

    /// The messages of the batch, in order, for the actor.
    pub(crate) fn into_cursor(self) -> Cursor {
        let WireBatch { chunks, senders, runs, .. } = self;
        Cursor { chunks, senders, runs: runs.into_iter(), cur: None, next: 0 }
    }
}

/// Walks a batch's messages on the actor.
pub(crate) struct Cursor {
    chunks: Vec<Bytes>,
    senders: Vec<Upid>,
    runs: std::vec::IntoIter<Run>,
    cur: Option<Run>,
    /// In `cur`: where the next frame's length prefix is (its first frame
    /// not yet handed out: 0).
    next: usize,
}

/// One message of a batch: its handler's index, sender and body.
pub(crate) struct Msg<'a> {
    pub handler: usize,
    pub from: &'a Upid,
    pub body: &'a [u8],
}

impl Cursor {
    /// Messages not handed out yet, at least: false once done.
    pub(crate) fn has_more(&self) -> bool {
        self.cur.is_some_and(|r| self.next == 0 || self.next < r.end) || self.runs.len() > 0
    }

    /// The next message. (Always inlined: called once per message from
    /// the actor's loop in another module, where it was not.)
    #[inline(always)]
    pub(crate) fn next_msg(&mut self) -> Option<Msg<'_>> {
        loop {
            if let Some(r) = &self.cur {
                let body = if self.next == 0 {
                    self.next = r.first.1;
                    Some(r.first.0 + r.body..r.first.1)
                } else if self.next < r.end {
                    let chunk = &self.chunks[r.chunk];
                    let at = self.next;
                    let len = u32::from_be_bytes(chunk[at..at + 4].try_into().expect("4 bytes")) as usize;
                    self.next = at + 4 + len;
                    Some(at + 4 + r.body..self.next)
                } else {
                    None
                };
                if let Some(Range { start, end }) = body {
                    return Some(Msg {
                        handler: r.handler,
                        from: &self.senders[r.sender],
                        body: &self.chunks[r.chunk][start..end],
                    });
                }
            }
            self.cur = Some(self.runs.next()?);
            self.next = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use super::*;
    use crate::wire::{encode_raw_frame, FrameReader, WireEnvelope};

    fn collect(batch: WireBatch) -> Vec<(usize, String, Vec<u8>)> {
        let mut c = batch.into_cursor();
        let mut out = vec![];
        while let Some(m) = c.next_msg() {
            out.push((m.handler, m.from.id().to_string(), m.body.to_vec()));
        }
        assert!(!c.has_more());
        out
    }

    #[test]
    fn runs_of_repeated_frames_come_back_in_order() {
        let mut stream = BytesMut::new();
        let frames: [(&str, &[u8]); 5] = [("a", b"1"), ("a", b"22"), ("a", b""), ("b", b"4444"), ("b", b"5")];
        for (from, body) in frames {
            encode_raw_frame(&mut stream, from, "to", "n", body).unwrap();
        }
        let addr = "127.0.0.1:1".parse().unwrap();
        let mut r = FrameReader::default();
        r.buffer().extend_from_slice(&stream);
        let mut batch = WireBatch::new();
        let mut sizes = vec![];
        r.drain(|env| {
            let from = Upid::new(env.from_id(), addr).unwrap();
            if env.repeats_previous() {
                batch.push_again(&env);
            } else {
                batch.push(7, &from, &env);
            }
            sizes.push(batch.runs.len());
        })
        .unwrap();
        assert_eq!(sizes, [1, 1, 1, 2, 2], "a new sender starts a run; repeats extend it");
        assert_eq!(batch.len(), 5);
        let got = collect(batch);
        let want: Vec<_> = frames.iter().map(|(f, b)| (7, f.to_string(), b.to_vec())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn frames_of_separate_chunks_start_new_runs() {
        let addr = "127.0.0.1:1".parse().unwrap();
        let from = Upid::new("a", addr).unwrap();
        let envs: Vec<WireEnvelope> = (0..3u8)
            .map(|i| {
                let mut b = BytesMut::new();
                encode_raw_frame(&mut b, "a", "to", "n", &[i; 3]).unwrap();
                WireEnvelope::decode(b.freeze().slice(4..)).unwrap()
            })
            .collect();
        let mut batch = WireBatch::new();
        batch.push(1, &from, &envs[0].view());
        batch.push_again(&envs[1].view());
        batch.push_again(&envs[2].view());
        assert_eq!(batch.runs.len(), 3);
        assert_eq!(batch.senders.len(), 1);
        let got: Vec<_> = collect(batch).into_iter().map(|(h, _, b)| (h, b)).collect();
        assert_eq!(got, [(1, vec![0; 3]), (1, vec![1; 3]), (1, vec![2; 3])]);
    }
}
