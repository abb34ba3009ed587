//! The header read timeout, applied only while a request head is being read.
//!
//! hyper's own `header_read_timeout` also runs while a keep-alive connection
//! sits idle between requests, and closes it after the timeout. Mesos never
//! closes an idle connection, and clients such as pymesos keep one open
//! between calls and do not retry a call whose connection was closed under
//! them. So the timeout lives here, around the socket: it starts when the
//! first bytes of a request arrive while no request is in the service, and
//! stops when hyper hands the request to the service ([`Requests::started`]).
//! A client that sends half a head and stalls is cut off after
//! [`HTTP_HEADER_READ_TIMEOUT`](crate::limits::HTTP_HEADER_READ_TIMEOUT); one
//! that sends nothing between requests is kept, however long.
//!
//! Bytes that arrive while a request is in the service (its body, or a
//! pipelined next request) start no timer; a pipelined head that is still
//! incomplete when the service returns starts it with its next bytes.
//! Like hyper's timeout, this runs on tokio's timer (it guards a connection
//! slot, never anything a test's paused clock controls).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{sleep, Sleep};

/// What the service tells the socket: requests that reached it, and whether
/// one is in it now. Shared by the connection's service and its socket.
#[derive(Debug, Default)]
pub(crate) struct Requests {
    /// Requests handed to the service so far.
    started: AtomicU64,
    /// Requests handed to the service whose response head is not out yet.
    in_service: AtomicU64,
}

impl Requests {
    /// A request head was read completely: its timer stops. Call
    /// [`Requests::answered`] when its response is ready.
    pub(crate) fn started(&self) {
        self.started.fetch_add(1, Ordering::AcqRel);
        self.in_service.fetch_add(1, Ordering::AcqRel);
    }

    /// The request's response is ready: bytes read from now on start the
    /// next head's timer.
    pub(crate) fn answered(&self) {
        self.in_service.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket whose reads fail with `TimedOut` when a request head takes
/// longer than `limit`; see the module doc.
pub(crate) struct HeadTimeout<IO> {
    io: IO,
    requests: Arc<Requests>,
    limit: Duration,
    /// The running timer, and the `started` count when it began.
    timer: Option<(Pin<Box<Sleep>>, u64)>,
}

impl<IO> HeadTimeout<IO> {
    pub(crate) fn new(io: IO, requests: Arc<Requests>, limit: Duration) -> HeadTimeout<IO> {
        HeadTimeout { io, requests, limit, timer: None }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for HeadTimeout<IO> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let started = this.requests.started.load(Ordering::Acquire);
        if this.timer.as_ref().is_some_and(|(_, at)| *at != started) {
            this.timer = None; // the head it timed reached the service
        }
        let before = buf.filled().len();
        let res = Pin::new(&mut this.io).poll_read(cx, buf);
        let got = buf.filled().len() > before;
        if got && this.timer.is_none() && this.requests.in_service.load(Ordering::Acquire) == 0 {
            this.timer = Some((Box::pin(sleep(this.limit)), started));
        }
        if res.is_pending() {
            if let Some((t, _)) = this.timer.as_mut() {
                if t.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("request head not complete within {:?}", this.limit),
                    )));
                }
            }
        }
        res
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for HeadTimeout<IO> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
