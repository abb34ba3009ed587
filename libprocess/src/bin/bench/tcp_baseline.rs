//! The plain-TCP baseline of `libprocess-bench`: tokio sockets carrying
//! length-prefixed 64-byte frames (`len: u32 BE | body`), with no actors, no
//! envelope and no encoding, between the bench and its peer process.
//!
//! A connection's first byte picks the mode. One-way (`ONEWAY`): the client
//! writes batches of frames while fewer than `WINDOW` are unacknowledged; the
//! server parses every frame and writes its running count (u64 BE) every
//! `ACK_EVERY` frames, the same protocol the actor benches use. Echo (`ECHO`):
//! the server writes each frame back; the client keeps one in flight. Both
//! clients are loads (see `Load`): they pause between measurements.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;

use bytes::{Buf, BufMut, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use tokio::sync::Notify;

use super::{Load, ACK_EVERY, BODY, WINDOW};

const ONEWAY: u8 = 1;
const ECHO: u8 = 2;
/// Bytes of one frame on the wire.
const FRAME: usize = 4 + BODY;

/// Starts the server on 127.0.0.1 (on the current actix system) and returns its address.
pub async fn serve() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("baseline listener binds");
    let addr = listener.local_addr().expect("bound address");
    actix_rt::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            actix_rt::spawn(async move {
                // The client just closes its connection when done.
                let _ = serve_one(stream).await;
            });
        }
    });
    addr
}

async fn serve_one(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mode = stream.read_u8().await?;
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut count = 0u64;
    loop {
        if stream.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
        while buf.len() >= 4 {
            let len = u32::from_be_bytes(buf[..4].try_into().expect("4 bytes")) as usize;
            if len != BODY {
                return Err(std::io::Error::other(format!("frame of {len} bytes, expected {BODY}")));
            }
            if buf.len() < 4 + len {
                break;
            }
            let frame = buf.split_to(4 + len);
            count += 1;
            if mode == ECHO {
                stream.write_all(&frame).await?;
            } else {
                std::hint::black_box(&frame[4..]);
                if count.is_multiple_of(ACK_EVERY) {
                    stream.write_all(&count.to_be_bytes()).await?;
                }
            }
        }
        buf.reserve(64 * 1024);
    }
}

async fn connect(addr: SocketAddr, mode: u8) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect to baseline server");
    s.set_nodelay(true).expect("nodelay");
    s.write_u8(mode).await.expect("mode byte");
    s
}

/// A paused load whose task waits on the returned `Notify` while paused.
fn paused(count: &Rc<Cell<u64>>) -> (Load, Rc<Cell<bool>>, Rc<Notify>) {
    let (running, wake) = (Rc::new(Cell::new(false)), Rc::new(Notify::new()));
    let w = wake.clone();
    let load = Load { count: count.clone(), running: running.clone(), resume: Box::new(move || w.notify_one()) };
    (load, running, wake)
}

/// Streams frames; the count is what the server acknowledged.
pub async fn oneway(addr: SocketAddr) -> Load {
    let (mut rd, mut wr) = connect(addr, ONEWAY).await.into_split();
    let acked = Rc::new(Cell::new(0u64));
    let (load, running, wake) = paused(&acked);
    actix_rt::spawn(async move {
        let mut batch = BytesMut::with_capacity(ACK_EVERY as usize * FRAME);
        let mut acks = BytesMut::with_capacity(4096);
        let mut sent = 0u64;
        loop {
            if !running.get() {
                wake.notified().await;
            } else if sent - acked.get() >= WINDOW {
                if rd.read_buf(&mut acks).await.unwrap_or(0) == 0 {
                    return;
                }
            } else {
                batch.clear();
                for _ in 0..ACK_EVERY {
                    batch.put_u32(BODY as u32);
                    batch.extend_from_slice(&[7u8; BODY]);
                }
                if wr.write_all(&batch).await.is_err() {
                    return;
                }
                sent += ACK_EVERY;
                // Collect acknowledgements already there, without waiting.
                let mut scratch = [0u8; 4096];
                if let Ok(n) = rd.try_read(&mut scratch) {
                    acks.extend_from_slice(&scratch[..n]);
                }
            }
            while acks.len() >= 8 {
                acked.set(acks.get_u64());
            }
        }
    });
    load
}

/// Echoes one frame at a time; the count is completed round trips.
pub async fn roundtrips(addr: SocketAddr) -> Load {
    let mut s = connect(addr, ECHO).await;
    let done = Rc::new(Cell::new(0u64));
    let (load, running, wake) = paused(&done);
    actix_rt::spawn(async move {
        let mut frame = [7u8; FRAME];
        frame[..4].copy_from_slice(&(BODY as u32).to_be_bytes());
        let mut back = [0u8; FRAME];
        loop {
            if !running.get() {
                wake.notified().await;
            } else if s.write_all(&frame).await.is_err() || s.read_exact(&mut back).await.is_err() {
                return;
            } else {
                done.set(done.get() + 1);
            }
        }
    });
    load
}
