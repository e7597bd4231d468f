//! The real binary in a pseudo-terminal, read back through a VT100
//! emulator and driven by key bytes written to the pty master. Every wait
//! is on what the screen shows (or on the process), with a generous
//! timeout and the screen in the failure message; the only fixed waits are
//! the gap between keys and `assert_still_running_for`, which proves that
//! something does not happen.
#![allow(unsafe_code)] // termios and kill on the pty, each with its SAFETY note

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, ExitStatus, MasterPty, PtySize};

/// How long to wait for anything to appear on screen.
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// How often to look at the screen while waiting.
const POLL: Duration = Duration::from_millis(30);
/// A pause between keys, so that a lone Esc is not read together with the
/// next key as an Alt chord.
const KEY_GAP: Duration = Duration::from_millis(60);

/// The cursor position query (DSR 6); crossterm sends it from `Terminal::clear`.
const DSR: &[u8] = b"\x1b[6n";

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The terminal settings of a pty that matter here (raw mode is in them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Termios {
    iflag: libc::tcflag_t,
    oflag: libc::tcflag_t,
    cflag: libc::tcflag_t,
    lflag: libc::tcflag_t,
    cc: Vec<libc::cc_t>,
}

/// The settings of the pty whose master is `fd` (on Linux the master's
/// tcgetattr answers for the slave, the side the cockpit changes).
fn termios(fd: std::os::unix::io::RawFd) -> Termios {
    // SAFETY: a zeroed termios is a valid out-parameter, and fd is open.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `t` is a valid termios to fill, and fd is open.
    assert_eq!(unsafe { libc::tcgetattr(fd, &mut t) }, 0, "tcgetattr: {}", std::io::Error::last_os_error());
    Termios { iflag: t.c_iflag, oflag: t.c_oflag, cflag: t.c_cflag, lflag: t.c_lflag, cc: t.c_cc.to_vec() }
}

/// A running cockpit in a pty, with a VT100 parser fed by a reader thread.
pub struct Harness {
    /// The pty's settings before the cockpit started.
    termios_before: Termios,
    /// Every byte the cockpit wrote.
    raw: Arc<Mutex<Vec<u8>>>,
    parser: Arc<Mutex<vt100::Parser>>,
    master: Box<dyn MasterPty + Send>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn Child + Send + Sync>,
    eof: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
}

impl Harness {
    /// Runs `cmd` in a `cols`x`rows` pty (TERM set to xterm-256color). With
    /// `answer_dsr` false the emulated terminal ignores cursor position
    /// queries, as some terminals do.
    pub fn start(mut cmd: CommandBuilder, cols: u16, rows: u16, answer_dsr: bool) -> Harness {
        let pty = native_pty_system();
        let pair = pty.openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).expect("open pty");
        let termios_before = termios(pair.master.as_raw_fd().expect("pty master fd"));
        cmd.env("TERM", "xterm-256color");
        let child = pair.slave.spawn_command(cmd).expect("spawn cockpit");
        // Only the child may hold the slave side, or the reader never sees EOF.
        drop(pair.slave);

        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let eof = Arc::new(AtomicBool::new(false));
        let writer = Arc::new(Mutex::new(pair.master.take_writer().expect("pty writer")));
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let reader = {
            let (parser, eof, writer, raw) =
                (Arc::clone(&parser), Arc::clone(&eof), Arc::clone(&writer), Arc::clone(&raw));
            thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                // Bytes held back because they may start a cursor position query.
                let mut pending: Vec<u8> = Vec::new();
                loop {
                    let n = match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    raw.lock().unwrap().extend_from_slice(&buf[..n]);
                    pending.extend_from_slice(&buf[..n]);
                    let mut parser = parser.lock().unwrap();
                    // Like a real terminal, answer "where is the cursor?" (ESC [ 6 n)
                    // with the cursor position at that point of the output.
                    while let Some(i) = find(&pending, DSR) {
                        parser.process(&pending[..i]);
                        pending.drain(..i + DSR.len());
                        if answer_dsr {
                            let (row, col) = parser.screen().cursor_position();
                            let reply = format!("\x1b[{};{}R", row + 1, col + 1);
                            let mut w = writer.lock().unwrap();
                            let _ = w.write_all(reply.as_bytes()).and_then(|()| w.flush());
                        }
                    }
                    let keep = (1..DSR.len()).rev().find(|&k| pending.ends_with(&DSR[..k])).unwrap_or(0);
                    parser.process(&pending[..pending.len() - keep]);
                    pending.drain(..pending.len() - keep);
                }
                parser.lock().unwrap().process(&pending);
                eof.store(true, Ordering::SeqCst);
            })
        };
        Harness { termios_before, raw, parser, master: pair.master, writer, child, eof, reader: Some(reader) }
    }

    /// The screen's text now.
    pub fn screen_text(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// The screen with its size, for failure messages.
    pub fn dump(&self) -> String {
        let p = self.parser.lock().unwrap();
        let (rows, cols) = p.screen().size();
        format!("--- screen {cols}x{rows} ---\n{}\n--- end of screen ---", p.screen().contents())
    }

    /// Waits until the screen satisfies `pred` (described as `what`) and
    /// returns it; fails with the screen after `TIMEOUT`.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.wait_for_within(what, TIMEOUT, pred)
    }

    /// `wait_for` with its own timeout.
    pub fn wait_for_within(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let text = self.screen_text();
            if pred(&text) {
                return text;
            }
            if start.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting for {what}\n{}", self.dump());
            }
            thread::sleep(POLL);
        }
    }

    /// Waits until the screen shows `needle`.
    pub fn wait_for_text(&self, needle: &str) -> String {
        self.wait_for(&format!("{needle:?}"), |s| s.contains(needle))
    }

    /// Waits for the four panes and the status line.
    pub fn wait_for_panes(&self) -> String {
        self.wait_for("the four panes", Harness::panes)
    }

    /// Whether a screen shows the four panes and the status line.
    pub fn panes(screen: &str) -> bool {
        ["Accounts", "Health", "Lifecycle", "Follow-ups", " cockpit "].iter().all(|t| screen.contains(t))
    }

    /// Types `bytes`, then leaves `KEY_GAP` before the next key.
    pub fn send(&mut self, bytes: &[u8]) {
        let mut w = self.writer.lock().unwrap();
        w.write_all(bytes).and_then(|()| w.flush()).expect("write to pty");
        drop(w);
        thread::sleep(KEY_GAP);
    }

    /// Resizes the pty and the emulated screen.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.master.resize(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).expect("resize pty");
        self.parser.lock().unwrap().screen_mut().set_size(rows, cols);
    }

    /// Fails, with the screen, if the cockpit has exited.
    pub fn assert_running(&mut self) {
        match self.child.try_wait().expect("try_wait") {
            None => {}
            Some(status) => panic!("cockpit exited unexpectedly with {status:?}\n{}", self.dump()),
        }
    }

    /// A copy of the emulated screen (its modes: alternate screen, cursor).
    pub fn screen(&self) -> vt100::Screen {
        self.parser.lock().unwrap().screen().clone()
    }

    /// Everything the cockpit wrote, as text.
    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw.lock().unwrap()).into_owned()
    }

    /// The cockpit's process id.
    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("pid")
    }

    /// The pty's settings before the cockpit started.
    pub fn termios_before(&self) -> &Termios {
        &self.termios_before
    }

    /// Waits until the screen satisfies `pred` (then returns it) or the
    /// cockpit exits first (then `None`); fails with the screen after `TIMEOUT`.
    pub fn wait_for_or_exit(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> Option<String> {
        let start = Instant::now();
        loop {
            let text = self.screen_text();
            if pred(&text) {
                return Some(text);
            }
            if self.child.try_wait().expect("try_wait").is_some() {
                return None;
            }
            if start.elapsed() > TIMEOUT {
                panic!("timed out after {TIMEOUT:?} waiting for {what} or an exit\n{}", self.dump());
            }
            thread::sleep(POLL);
        }
    }

    /// Waits until `cond` holds (something off screen: a file, a request
    /// at a fake); fails with the screen after `TIMEOUT`.
    pub fn wait_until(&self, what: &str, cond: impl Fn() -> bool) {
        let start = Instant::now();
        while !cond() {
            assert!(start.elapsed() < TIMEOUT, "timed out after {TIMEOUT:?} waiting for {what}\n{}", self.dump());
            thread::sleep(POLL);
        }
    }

    /// Proves the cockpit does not exit within `time` (after a key that
    /// must not quit, a tiny terminal, ...): the one wait here that is a
    /// fixed time, since nothing on screen can show that something did not
    /// happen. Fails as soon as it exits, with the screen.
    pub fn assert_still_running_for(&mut self, time: Duration) {
        let start = Instant::now();
        while start.elapsed() < time {
            self.assert_running();
            thread::sleep(POLL.min(time));
        }
        self.assert_running();
    }

    /// Waits for the child to exit, then drains the pty until EOF (at most
    /// ~2 s) so the parser holds everything the app wrote on its way out.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if start.elapsed() > timeout {
                let screen = self.dump();
                let _ = self.child.kill();
                panic!("cockpit did not exit within {timeout:?}\n{screen}");
            }
            thread::sleep(POLL);
        };
        let drained = Instant::now();
        while !self.eof.load(Ordering::SeqCst) && drained.elapsed() < Duration::from_secs(2) {
            thread::sleep(Duration::from_millis(10));
        }
        if self.eof.load(Ordering::SeqCst) {
            if let Some(r) = self.reader.take() {
                r.join().expect("reader thread");
            }
        }
        status
    }

    /// The pty's settings now.
    pub fn termios_now(&self) -> Termios {
        termios(self.master.as_raw_fd().expect("pty master fd"))
    }

    /// Sends `signal` to the cockpit's process (only to it, as `kill` does).
    pub fn signal(&self, signal: libc::c_int) {
        let pid = self.child.process_id().expect("pid") as libc::pid_t;
        // SAFETY: kill has no memory effects; pid is our child.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill: {}", std::io::Error::last_os_error());
    }

    /// Asserts the cockpit left the terminal as it found it: main screen,
    /// cursor shown, bracketed paste off, and the pty's settings (raw mode)
    /// as before it started.
    pub fn assert_terminal_restored(&self) {
        let screen = self.parser.lock().unwrap().screen().clone();
        assert!(!screen.alternate_screen(), "still on the alternate screen\n{}", self.dump());
        assert!(!screen.hide_cursor(), "cursor still hidden\n{}", self.dump());
        let raw = self.raw.lock().unwrap();
        let paste = raw.windows(7).rposition(|w| w == b"\x1b[?2004").expect("bracketed paste was turned on");
        assert_eq!(raw.get(paste + 7), Some(&b'l'), "bracketed paste left on");
        drop(raw);
        assert_eq!(self.termios_now(), self.termios_before, "the pty's settings (raw mode) were not restored");
    }

    /// Asserts a clean exit that left the terminal as it found it.
    pub fn assert_clean_exit(&mut self) {
        let status = self.wait_exit(TIMEOUT);
        let p = self.parser.lock().unwrap();
        let screen = p.screen();
        assert!(status.success(), "exit status {status:?} (code {})", status.exit_code());
        assert_eq!(status.exit_code(), 0);
        assert!(!screen.alternate_screen(), "still on the alternate screen after exit");
        assert!(!screen.hide_cursor(), "cursor still hidden after exit");
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
