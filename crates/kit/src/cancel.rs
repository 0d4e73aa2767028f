//! Job cancellation: the runner sends SIGINT, then SIGTERM 7.5 s later, then
//! kills the process. A [`Cancel`] token is tripped by either signal (or by a
//! test) and every wait in the action races against it.

use std::sync::Arc;
use tokio::sync::watch;

#[derive(Clone, Debug)]
pub struct Cancel {
    tx: Arc<watch::Sender<Option<&'static str>>>,
}

impl Default for Cancel {
    fn default() -> Self {
        Self::new()
    }
}

impl Cancel {
    pub fn new() -> Self {
        let (tx, _) = watch::channel(None);
        Self { tx: Arc::new(tx) }
    }

    /// Trips the token; `reason` names the signal. Only the first reason is kept.
    pub fn cancel(&self, reason: &'static str) {
        self.tx.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                true
            } else {
                false
            }
        });
    }

    pub fn is_cancelled(&self) -> bool {
        self.tx.borrow().is_some()
    }

    /// The signal (or other reason) that cancelled the run.
    pub fn reason(&self) -> Option<&'static str> {
        *self.tx.borrow()
    }

    /// Resolves once cancelled (at once if it already is).
    pub async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so `wait_for` cannot fail while we wait.
        let _ = rx.wait_for(Option::is_some).await;
    }

    /// Trips the token on SIGINT or SIGTERM (Ctrl-C / Ctrl-Break on Windows).
    /// Must be called inside a tokio runtime; the listener lives as long as it.
    pub fn listen_for_signals(&self) -> std::io::Result<()> {
        let cancel = self.clone();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut int = signal(SignalKind::interrupt())?;
            let mut term = signal(SignalKind::terminate())?;
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = int.recv() => cancel.cancel("SIGINT"),
                        _ = term.recv() => cancel.cancel("SIGTERM"),
                    }
                }
            });
        }
        #[cfg(windows)]
        {
            let mut c = tokio::signal::windows::ctrl_c()?;
            let mut brk = tokio::signal::windows::ctrl_break()?;
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = c.recv() => cancel.cancel("Ctrl-C"),
                        _ = brk.recv() => cancel.cancel("Ctrl-Break"),
                    }
                }
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn first_reason_wins_and_waiters_wake() {
        let cancel = Cancel::new();
        assert!(!cancel.is_cancelled());
        let waiter = {
            let c = cancel.clone();
            tokio::spawn(async move { c.cancelled().await })
        };
        cancel.cancel("SIGINT");
        cancel.cancel("SIGTERM");
        waiter.await.unwrap();
        assert_eq!(cancel.reason(), Some("SIGINT"));
        // Already cancelled: resolves at once.
        cancel.cancelled().await;
    }
}
