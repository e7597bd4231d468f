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

    use tokio::signal::unix::{signal, Signal, SignalKind};

    /// The four streams.
    pub struct Signals {
        term: Signal,
        hup: Signal,
        int: Signal,
        quit: Signal,
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
            })
        }

        /// The next signal's number.
        pub async fn recv(&mut self) -> i32 {
            tokio::select! {
                _ = self.term.recv() => SignalKind::terminate().as_raw_value(),
                _ = self.hup.recv() => SignalKind::hangup().as_raw_value(),
                _ = self.int.recv() => SignalKind::interrupt().as_raw_value(),
                _ = self.quit.recv() => SignalKind::quit().as_raw_value(),
            }
        }

        /// What arrived while the CSM's editor held the terminal. The editor
        /// runs in the cockpit's process group, so ctrl-c and ctrl-\ typed
        /// into an editor that leaves them to the terminal send SIGINT and
        /// SIGQUIT to both: they were meant for the editor and are dropped
        /// (as `git commit` does). SIGTERM and SIGHUP still end the session.
        pub fn after_editor(&mut self) -> Option<i32> {
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
        pub fn after_editor(&mut self) -> Option<i32> {
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
