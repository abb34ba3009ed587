//! The queue of jobs between a process's senders (any thread) and its actor.
//!
//! A mutex around a `VecDeque`, and a second deque the receiver owns: the
//! receiver swaps the two under the lock and then runs the whole batch
//! without touching the lock again. A send costs one uncontended lock and,
//! only when the actor is idle, one wake-up. tokio's unbounded channel (used
//! before) costs several atomic operations per message on both sides and was
//! a sixth of the local send path. Like tokio's, the receiver spends the
//! task's cooperative budget, so an actor flooded with messages (or sending
//! to itself) still lets the other tasks of its thread run.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::sync::lock;

struct State<T> {
    items: VecDeque<T>,
    waker: Option<Waker>,
    receiver_alive: bool,
    sender_alive: bool,
}

/// The sending half; `send` fails once the receiver is gone.
pub(crate) struct Sender<T> {
    shared: Arc<Mutex<State<T>>>,
}

/// The receiving half; `poll_recv` ends (None) once the sender is gone.
pub(crate) struct Receiver<T> {
    shared: Arc<Mutex<State<T>>>,
    batch: VecDeque<T>,
}

pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared =
        Arc::new(Mutex::new(State { items: VecDeque::new(), waker: None, receiver_alive: true, sender_alive: true }));
    (Sender { shared: shared.clone() }, Receiver { shared, batch: VecDeque::new() })
}

impl<T> Sender<T> {
    /// Queues `item`, or hands it back if the receiver is gone.
    pub(crate) fn send(&self, item: T) -> Result<(), T> {
        let mut state = lock(&self.shared);
        if !state.receiver_alive {
            return Err(item);
        }
        state.items.push_back(item);
        let waker = state.waker.take();
        drop(state);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = lock(&self.shared);
            state.sender_alive = false;
            state.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
        if self.batch.is_empty() {
            let mut state = lock(&self.shared);
            if state.items.is_empty() {
                if !state.sender_alive {
                    return Poll::Ready(None);
                }
                if !state.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    state.waker = Some(cx.waker().clone());
                }
                return Poll::Pending;
            }
            std::mem::swap(&mut state.items, &mut self.batch);
        }
        coop.made_progress();
        Poll::Ready(self.batch.pop_front())
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Queued items are dropped outside the lock (their drops may do anything).
        let _queued = {
            let mut state = lock(&self.shared);
            state.receiver_alive = false;
            std::mem::take(&mut state.items)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    #[tokio::test]
    async fn delivers_in_order_across_batches_and_ends_with_the_sender() {
        let (tx, mut rx) = channel();
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        assert_eq!(poll_fn(|cx| rx.poll_recv(cx)).await, Some(0));
        tx.send(3).unwrap();
        let mut got = vec![];
        for _ in 0..3 {
            got.push(poll_fn(|cx| rx.poll_recv(cx)).await.unwrap());
        }
        assert_eq!(got, [1, 2, 3]);
        let waiter = tokio::spawn(async move { poll_fn(|cx| rx.poll_recv(cx)).await });
        tokio::task::yield_now().await;
        drop(tx);
        assert_eq!(waiter.await.unwrap(), None);
    }

    #[tokio::test]
    async fn send_fails_once_the_receiver_is_gone() {
        let (tx, rx) = channel();
        tx.send(1).unwrap();
        drop(rx);
        assert_eq!(tx.send(2), Err(2));
    }
}
