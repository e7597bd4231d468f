//! The signals that end the cockpit: SIGTERM, SIGHUP (the terminal went
//! away), SIGINT and SIGQUIT (in raw mode ctrl-c and ctrl-\ are keys, so
//! these come from outside). They are caught for the whole process once
//! the cockpit starts, so none of them can kill it with the terminal still
//! in raw mode; the event loop ends the session and exits with 128 + the
//! signal's number.

/// The conventional exit status after a signal.
pub fn exit_status(signal: i32) -> i32 {
    128 + signal
}

#[cfg(unix)]
mod imp {
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    use tokio::signal::unix::{signal, Signal, SignalKind};
    use tokio::time::Instant;

    /// How long a signal that stopped the editor may take to reach the
    /// event loop (it is handed over by another thread).
    const SETTLE: Duration = Duration::from_millis(100);
    /// How long after the editor closes a SIGINT or SIGQUIT is still taken
    /// as one typed into it.
    const THE_EDITORS: Duration = Duration::from_millis(500);

    /// The four streams.
    pub struct Signals {
        term: Signal,
        hup: Signal,
        int: Signal,
        quit: Signal,
        /// Until then SIGINT and SIGQUIT are the editor's (see `after_editor`).
        editors_until: Option<Instant>,
    }

    /// Whether `s` has a delivery waiting, without waiting for one.
    fn arrived(s: &mut Signal) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        matches!(s.poll_recv(&mut cx), Poll::Ready(_))
    }

    impl Signals {
        /// Catches the four signals from now on.
        pub fn install() -> std::io::Result<Signals> {
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                hup: signal(SignalKind::hangup())?,
                int: signal(SignalKind::interrupt())?,
                quit: signal(SignalKind::quit())?,
                editors_until: None,
            })
        }

        /// The next signal's number.
        pub async fn recv(&mut self) -> i32 {
            loop {
                let keyboard = tokio::select! {
                    _ = self.term.recv() => return SignalKind::terminate().as_raw_value(),
                    _ = self.hup.recv() => return SignalKind::hangup().as_raw_value(),
                    _ = self.int.recv() => SignalKind::interrupt().as_raw_value(),
                    _ = self.quit.recv() => SignalKind::quit().as_raw_value(),
                };
                if self.editors_until.is_none_or(|t| Instant::now() >= t) {
                    return keyboard;
                }
            }
        }

        /// What arrived while the CSM's editor held the terminal; `failed`:
        /// the editor did not exit cleanly (a signal may have stopped it).
        /// The editor runs in the cockpit's process group, so ctrl-c and
        /// ctrl-\ typed into an editor that leaves them to the terminal send
        /// SIGINT and SIGQUIT to both: they were meant for the editor and are
        /// dropped (as `git commit` does), as are any that land in the next
        /// moments. SIGTERM and SIGHUP end the session.
        pub async fn after_editor(&mut self, failed: bool) -> Option<i32> {
            if failed {
                tokio::time::sleep(SETTLE).await;
            }
            self.editors_until = Some(Instant::now() + THE_EDITORS);
            arrived(&mut self.int);
            arrived(&mut self.quit);
            if arrived(&mut self.hup) {
                return Some(SignalKind::hangup().as_raw_value());
            }
            arrived(&mut self.term).then(|| SignalKind::terminate().as_raw_value())
        }
    }

    /// The signal's name for the log and the CSM.
    pub fn name(signal: i32) -> String {
        let kinds = [
            (SignalKind::terminate(), "SIGTERM"),
            (SignalKind::hangup(), "SIGHUP"),
            (SignalKind::interrupt(), "SIGINT"),
            (SignalKind::quit(), "SIGQUIT"),
        ];
        kinds
            .iter()
            .find(|(k, _)| k.as_raw_value() == signal)
            .map_or_else(|| format!("signal {signal}"), |(_, n)| n.to_string())
    }
}

#[cfg(not(unix))]
mod imp {
    /// Ctrl-c from the console, the one signal there is.
    pub struct Signals;

    const INTERRUPT: i32 = 2;

    impl Signals {
        /// Catches ctrl-c.
        pub fn install() -> std::io::Result<Signals> {
            Ok(Signals)
        }

        /// The next signal's number.
        pub async fn recv(&mut self) -> i32 {
            match tokio::signal::ctrl_c().await {
                Ok(()) => INTERRUPT,
                Err(_) => std::future::pending().await,
            }
        }

        /// Nothing shares the console's signals with the editor here.
        pub async fn after_editor(&mut self, _failed: bool) -> Option<i32> {
            None
        }
    }

    /// The signal's name.
    pub fn name(signal: i32) -> String {
        if signal == INTERRUPT {
            "ctrl-c".into()
        } else {
            format!("signal {signal}")
        }
    }
}

pub use imp::{name, Signals};
