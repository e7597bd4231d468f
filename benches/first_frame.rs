//! The real binary's first frame: `cockpit` started in a 160x48
//! pseudo-terminal on a 100,000-account workspace, timed from the spawn to
//! the moment the emulated screen shows the four panes; one warm-up run,
//! then the runs counted (median of at least five).
//!
//! `cargo bench --bench first_frame [-- --accounts N --runs N --dir DIR]`

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};

const BIN: &str = env!("CARGO_BIN_EXE_cockpit");
const DSR: &[u8] = b"\x1b[6n";

/// Starts the cockpit on `ws` and returns the time to its first full frame.
/// The session lasts until the book has loaded, as a CSM's would: the
/// frame the next start draws is kept as the cockpit closes, once nothing
/// else holds the workspace (a load still running does).
fn first_frame(ws: &Path, home: &Path) -> Duration {
    run_cockpit(ws, home, true).0
}

/// The child's peak resident memory (VmHWM) in MB.
fn peak_mb(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs the cockpit on `ws` to its first frame (and, with `peak`, until
/// the whole book has loaded: its peak memory then).
fn run_cockpit(ws: &Path, home: &Path, peak: bool) -> (Duration, Option<f64>) {
    let log = ws.join("cockpit.log");
    let logged_before = std::fs::read_to_string(&log).map(|l| l.matches("book loaded").count()).unwrap_or(0);
    let pair = native_pty_system()
        .openpty(PtySize { rows: 48, cols: 160, pixel_width: 0, pixel_height: 0 })
        .expect("a pseudo-terminal");
    let mut cmd = CommandBuilder::new(BIN);
    cmd.args(["--data-dir", &ws.display().to_string()]);
    cmd.env("TERM", "xterm-256color");
    for var in ["HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"] {
        cmd.env(var, home);
    }
    let started = Instant::now();
    let mut child = pair.slave.spawn_command(cmd).expect("spawn cockpit");
    drop(pair.slave);
    let parser = Arc::new(Mutex::new(vt100::Parser::new(48, 160, 0)));
    let writer = Arc::new(Mutex::new(pair.master.take_writer().expect("pty writer")));
    let mut reader = pair.master.try_clone_reader().expect("pty reader");
    let (p, w) = (parser.clone(), writer.clone());
    let reading = std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            let mut parser = p.lock().unwrap();
            parser.process(&buf[..n]);
            // A terminal answers "where is the cursor?".
            if buf[..n].windows(DSR.len()).any(|x| x == DSR) {
                let (row, col) = parser.screen().cursor_position();
                let _ = w.lock().unwrap().write_all(format!("\x1b[{};{}R", row + 1, col + 1).as_bytes());
            }
        }
    });
    let shown = loop {
        let text = parser.lock().unwrap().screen().contents();
        if text.contains("1 Accounts") && text.contains("3 Lifecycle") && text.contains("4 Follow-ups") {
            break started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no first frame in 60 s:\n{text}");
        std::thread::sleep(Duration::from_micros(200));
    };
    // The book loads after the first frame (and the day's upkeep): the
    // cockpit's peak is read once the log says it is in.
    let mut memory = None;
    if peak {
        let waited = Instant::now();
        while waited.elapsed() < Duration::from_secs(120) {
            let loaded = std::fs::read_to_string(&log).map(|l| l.matches("book loaded").count()).unwrap_or(0);
            if loaded > logged_before {
                std::thread::sleep(Duration::from_millis(500));
                memory = child.process_id().and_then(peak_mb);
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let _ = writer.lock().unwrap().write_all(b"q");
    let _ = child.wait();
    drop(pair.master);
    let _ = reading.join();
    (shown, memory)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let accounts: u64 = arg("--accounts").and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let runs: usize = arg("--runs").and_then(|v| v.parse().ok()).unwrap_or(7).max(5);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let ws = match arg("--dir") {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            let ws = tmp.path().join("ws");
            let t0 = Instant::now();
            let status = std::process::Command::new(BIN)
                .args(["demo", "--accounts", &accounts.to_string(), "--data-dir", &ws.display().to_string()])
                .env("HOME", &home)
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "generating the workspace failed");
            println!("generated {accounts} accounts in {:.1} s", t0.elapsed().as_secs_f64());
            ws
        }
    };
    // The first open after the workspace was written pays for sled's log
    // recovery (and runs the day's pass): reported apart, then warm runs.
    let first = first_frame(&ws, &home);
    println!("first open after writing: first frame in {:.1} ms", first.as_secs_f64() * 1e3);
    let mut times: Vec<Duration> = (0..runs).map(|_| first_frame(&ws, &home)).collect();
    match run_cockpit(&ws, &home, true).1 {
        Some(mb) => println!("peak memory of the cockpit with the whole book loaded (VmHWM): {mb:.0} MB"),
        None => println!("peak memory: the book did not load within 2 minutes"),
    }
    // When the kept frame cannot be used (anything wrote since it was kept,
    // or it was removed), the cockpit reads the database before drawing.
    let mut unkept: Vec<Duration> = (0..3)
        .map(|_| {
            let _ = std::fs::remove_file(ws.join("first-frame"));
            first_frame(&ws, &home)
        })
        .collect();
    unkept.sort();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "without the frame kept at close, 3 runs: min {:.1} ms, median {:.1} ms, max {:.1} ms",
        ms(unkept[0]),
        ms(unkept[1]),
        ms(unkept[2])
    );
    println!(
        "real binary, warm, {runs} runs: first frame min {:.1} ms, median {:.1} ms, max {:.1} ms",
        ms(times[0]),
        ms(times[runs / 2]),
        ms(times[runs - 1])
    );
}
