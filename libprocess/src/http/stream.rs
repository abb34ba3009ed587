//! Streaming HTTP responses: a route answers `200` with a body that is
//! written later, chunk by chunk, for as long as the client stays (Mesos's
//! `/api/v1/scheduler` SUBSCRIBE stream, an operator event stream).
//!
//! [`channel`] makes the two ends: the [`StreamWriter`] stays with whoever
//! produces events (one writer per stream: it is not `Clone`), the
//! [`StreamBody`] goes into the [`Response`](super::Response) and is written
//! by the connection as HTTP/1.1 chunks, held open until the writer is
//! dropped, even when the request said `Connection: close` (the connection
//! closes after the stream ends).
//!
//! The buffer between them is bounded in bytes
//! ([`MAX_HTTP_STREAM_BUFFER`](crate::limits::MAX_HTTP_STREAM_BUFFER)): a
//! client that stops reading is cut off (the connection is aborted without a
//! final chunk, so it sees a broken stream, not a clean end), with a log
//! line, and the writer learns it from [`StreamWriter::write`]. Nothing is
//! buffered without bound. When the client goes away (its socket closes),
//! the body is dropped and [`StreamWriter::closed`] resolves, so the producer
//! can treat it as a disconnection.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::limits::MAX_HTTP_STREAM_BUFFER;

/// Why a write to a stream failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The client is gone (or the stream was cut off before).
    #[error("the stream's client is gone")]
    Closed,
    /// The client read too slowly: more than the buffer limit was waiting
    /// for it. The stream is cut off.
    #[error("the stream's client stopped reading ({0} bytes waiting); cut off")]
    Overflow(usize),
}

/// What both ends share: bytes waiting, and whether the stream was cut.
#[derive(Debug, Default)]
struct Shared {
    queued: AtomicUsize,
    cut: AtomicBool,
    /// Cancelled when the body is dropped (the client left) or the stream
    /// is cut off: what [`StreamWriter::closed`] waits for.
    gone: CancellationToken,
}

/// The producing end of a stream; see the module doc.
#[derive(Debug)]
pub struct StreamWriter {
    tx: Option<mpsc::UnboundedSender<Bytes>>,
    shared: Arc<Shared>,
    limit: usize,
    /// A name for log lines (the route, a stream id).
    label: String,
}

/// The consuming end of a stream: an HTTP body (or, in tests and in-process
/// calls, read with [`StreamBody::next`]).
#[derive(Debug)]
pub struct StreamBody {
    rx: mpsc::UnboundedReceiver<Bytes>,
    shared: Arc<Shared>,
}

/// A stream with the default buffer limit; `label` names it in log lines.
pub fn channel(label: impl Into<String>) -> (StreamWriter, StreamBody) {
    channel_with_limit(label, MAX_HTTP_STREAM_BUFFER)
}

/// A stream whose client is cut off once more than `limit` bytes wait for it.
pub fn channel_with_limit(label: impl Into<String>, limit: usize) -> (StreamWriter, StreamBody) {
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared::default());
    let writer = StreamWriter { tx: Some(tx), shared: shared.clone(), limit, label: label.into() };
    (writer, StreamBody { rx, shared })
}

impl StreamWriter {
    /// Queues `chunk` for the client. An error means the stream is over
    /// (the client left, or was just cut off for reading too slowly).
    pub fn write(&mut self, chunk: impl Into<Bytes>) -> Result<(), StreamError> {
        let chunk = chunk.into();
        let tx = self.tx.as_ref().ok_or(StreamError::Closed)?;
        let waiting = self.shared.queued.load(Ordering::Acquire);
        if waiting + chunk.len() > self.limit {
            self.shared.cut.store(true, Ordering::Release);
            self.shared.gone.cancel();
            self.tx = None; // wakes the body, which sees `cut`
            tracing::warn!(
                stream = %self.label,
                waiting,
                limit = self.limit,
                "cutting off an HTTP stream whose client stopped reading"
            );
            return Err(StreamError::Overflow(waiting));
        }
        let len = chunk.len();
        self.shared.queued.fetch_add(len, Ordering::AcqRel);
        if tx.send(chunk).is_err() {
            self.shared.queued.fetch_sub(len, Ordering::AcqRel);
            self.tx = None;
            return Err(StreamError::Closed);
        }
        Ok(())
    }

    /// Whether the client is gone (or was cut off).
    pub fn is_closed(&self) -> bool {
        self.shared.gone.is_cancelled() || self.tx.as_ref().is_none_or(|tx| tx.is_closed())
    }

    /// Bytes written and not yet taken by the connection.
    pub fn queued(&self) -> usize {
        self.shared.queued.load(Ordering::Acquire)
    }

    /// Resolves when the client is gone: its connection closed, or the
    /// stream was cut off. (Dropping the writer ends the stream normally.)
    pub fn closed(&self) -> impl Future<Output = ()> + Send + 'static {
        let gone = self.shared.gone.clone();
        async move { gone.cancelled().await }
    }
}

impl StreamBody {
    /// The next chunk; None once the writer is dropped, or the stream was cut.
    pub async fn next(&mut self) -> Option<Bytes> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await.ok().flatten()
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, StreamCut>> {
        if self.shared.cut.load(Ordering::Acquire) {
            return Poll::Ready(Err(StreamCut));
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(chunk)) => {
                self.shared.queued.fetch_sub(chunk.len(), Ordering::AcqRel);
                Poll::Ready(Ok(Some(chunk)))
            }
            Poll::Ready(None) if self.shared.cut.load(Ordering::Acquire) => Poll::Ready(Err(StreamCut)),
            Poll::Ready(None) => Poll::Ready(Ok(None)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for StreamBody {
    fn drop(&mut self) {
        self.shared.gone.cancel();
    }
}

/// The body's error when the stream was cut off: hyper aborts the
/// connection instead of writing the final chunk.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("HTTP stream cut off: its client stopped reading")]
pub struct StreamCut;

impl Body for StreamBody {
    type Data = Bytes;
    type Error = StreamCut;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, StreamCut>>> {
        match self.poll_chunk(cx) {
            Poll::Ready(Ok(Some(chunk))) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
            Poll::Ready(Ok(None)) => Poll::Ready(None),
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default() // unknown: chunked
    }
}

/// A body that is either a whole value or a stream (what the connection writes).
pub(crate) type AnyBody = http_body_util::Either<http_body_util::Full<Bytes>, StreamBody>;

// `Full`'s error type, for the `Either` bound.
const _: fn(Infallible) -> Box<dyn std::error::Error + Send + Sync> = |e| match e {};

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chunks_arrive_in_order_then_the_end() {
        let (mut w, mut b) = channel("t");
        w.write("a").unwrap();
        w.write(Bytes::from_static(b"bc")).unwrap();
        assert_eq!(w.queued(), 3);
        assert_eq!(b.next().await.unwrap(), "a");
        assert_eq!(w.queued(), 2);
        assert_eq!(b.next().await.unwrap(), "bc");
        drop(w);
        assert_eq!(b.next().await, None);
    }

    #[tokio::test]
    async fn a_reader_that_falls_behind_is_cut_off() {
        let (mut w, mut b) = channel_with_limit("slow", 10);
        w.write("12345").unwrap();
        w.write("67890").unwrap();
        assert_eq!(w.write("x"), Err(StreamError::Overflow(10)));
        assert!(w.is_closed());
        assert_eq!(w.write("y"), Err(StreamError::Closed));
        // The body reports the cut at once (it does not drain what waited).
        let frame = std::future::poll_fn(|cx| Pin::new(&mut b).poll_frame(cx)).await;
        assert!(matches!(frame, Some(Err(StreamCut))));
        w.closed().await; // resolves: nothing more can be written
    }

    #[tokio::test]
    async fn the_writer_learns_that_the_client_left() {
        let (mut w, b) = channel("t");
        let closed = w.closed();
        assert!(!w.is_closed());
        drop(b);
        closed.await;
        assert!(w.is_closed());
        assert_eq!(w.write("late"), Err(StreamError::Closed));
    }
}
