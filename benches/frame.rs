//! Start-up to first frame, and one keystroke's update + render, on the
//! demo workspace and on a 100,000-account workspace.
//!
//! `cargo bench --bench frame` (add `-- --accounts N` for another size, or
//! `-- --big-dir DIR` to reuse a workspace made by `cockpit demo`).
//! Prints min / median / max over repeated runs, and peak memory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use cockpit::book::Book;
use cockpit::demo::{self, DemoSpec};
use cockpit::domain::Bands;
use cockpit::engine::edits::{apply, Author};
use cockpit::engine::writer::Writer;
use cockpit::store::Store;
use cockpit::tui::action::Action;
use cockpit::tui::app::{App, Msg};
use cockpit::tui::effect::Effect;
use cockpit::tui::keymap::Keymap;
use cockpit::tui::theme::Theme;
use cockpit::tui::{first_app, view, Session};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const W: u16 = 160;
const H: u16 = 48;

fn stats(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<44} n={:<4} min {:>8.3} ms  median {:>8.3} ms  max {:>8.3} ms",
        samples.len(),
        ms(samples[0]),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1])
    );
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn session(store: Store) -> Session {
    Session {
        store: store.into(),
        theme: Theme::dark(),
        keymap: Keymap::default(),
        bands: Bands::default(),
        workspace: "bench".into(),
        data_label: "demo data".into(),
        sources: vec![],
        sync_every: None,
        warnings: vec![],
        author: "tester".into(),
        signature: None,
        health_model: cockpit::domain::health_model::Model::builtin(),
        flags: Default::default(),
        replies: cockpit::domain::reply::builtin(),
        config: None,
        calendar: Default::default(),
    }
}

fn draw(term: &mut Terminal<TestBackend>, app: &App) {
    term.draw(|f| view::draw(app, f)).unwrap();
}

/// Open the store, build the first-frame state and draw it: what a user
/// waits for between Enter and the first screen.
fn first_frame(dir: &Path, runs: usize, label: &str) {
    let mut samples = Vec::new();
    let mut open_only = Vec::new();
    for _ in 0..runs {
        let t0 = Instant::now();
        let store = Store::open(dir).unwrap();
        open_only.push(t0.elapsed());
        let app = first_app(session(store), Utc::now()).unwrap();
        let mut term = Terminal::new(TestBackend::new(W, H)).unwrap();
        draw(&mut term, &app);
        samples.push(t0.elapsed());
        drop(app);
    }
    stats(&format!("{label}: open store"), open_only);
    stats(&format!("{label}: start-up to first frame"), samples);
}

/// The background load that follows the first frame.
fn full_load(dir: &Path, runs: usize, label: &str) {
    let store = Store::open(dir).unwrap();
    let mut samples = Vec::new();
    for _ in 0..runs {
        let t0 = Instant::now();
        let mut book = Book::load(&store).unwrap();
        let queue =
            cockpit::queue::load_with(&store, Utc::now(), usize::MAX, Some(&book), &Default::default()).unwrap();
        book.precompute_orders();
        samples.push(t0.elapsed());
        assert!(book.total() > 0 && !queue.is_empty());
    }
    stats(&format!("{label}: background load of book + queue"), samples);
}

/// One keystroke: update + render, after the full book has loaded.
fn keystrokes(dir: &Path, label: &str) {
    let store = Store::open(dir).unwrap();
    let mut app = first_app(session(store.clone()), Utc::now()).unwrap();
    let mut book = Book::load(&store).unwrap();
    let queue = cockpit::queue::load_with(&store, Utc::now(), usize::MAX, Some(&book), &Default::default()).unwrap();
    book.precompute_orders();
    app.on_msg(Msg::Loaded(Box::new(book), queue));
    let mut term = Terminal::new(TestBackend::new(W, H)).unwrap();
    draw(&mut term, &app);
    // The cockpit's writer: a keystroke sends its edit there and returns;
    // the answer (after the flush) is timed apart, as "saved".
    let writer = Writer::spawn(store.clone());
    let saved = std::cell::RefCell::new(Vec::new());
    // A keystroke asks the reader thread for what it shows of an account;
    // read here, after the keystroke is timed, and timed apart.
    let read = std::cell::RefCell::new(Vec::new());
    let model = cockpit::domain::health_model::Model::builtin();
    let settle = |app: &mut App, sent: Instant| {
        for e in app.take_effects() {
            if let Effect::Read(r) = e {
                let answer = cockpit::tui::reads::read(&store, r, &model);
                app.on_msg(Msg::Read(answer));
                read.borrow_mut().push(sent.elapsed());
            } else if let Effect::Write { seq, edit, at } = e {
                let (tx, rx) = std::sync::mpsc::channel();
                let by = Author::new("bench", at);
                writer.edit(move |s| {
                    let r = apply(s, edit, &by).map(Box::new).map_err(|e| e.to_string());
                    Box::new(move || tx.send(r).unwrap())
                });
                let r = rx.recv().unwrap();
                saved.borrow_mut().push(sent.elapsed());
                app.on_msg(Msg::Written(seq, r));
            }
        }
    };
    let mut run = |name: &str, actions: &[Action], n: usize, app: &mut App| {
        let mut samples = Vec::new();
        for i in 0..n {
            let a = actions[i % actions.len()];
            let t0 = Instant::now();
            app.update(a);
            draw(&mut term, app);
            samples.push(t0.elapsed());
            settle(app, t0);
        }
        stats(&format!("{label}: keystroke {name}"), samples);
    };
    run("j/k (move selection)", &[Action::Down, Action::Down, Action::Up], 300, &mut app);
    stats(&format!("{label}: j/k until the account is read (off the event loop)"), read.take());
    run("pgdn", &[Action::PageDown], 100, &mut app);
    run("G / g (bottom / top)", &[Action::Bottom, Action::Top], 50, &mut app);
    app.update(Action::FocusKanban);
    run("kanban h/l", &[Action::Right, Action::Right, Action::Left, Action::Left], 100, &mut app);
    run("> / < (stage move, sent to the writer)", &[Action::StageNext, Action::StagePrev], 40, &mut app);
    stats(&format!("{label}: > / < until saved (flushed, toast shown)"), saved.take());
    app.update(Action::FocusAccounts);
    run("s (re-sort whole book)", &[Action::SortNext], 14, &mut app);
    // Working the queue: done, then undo, each stored (and flushed) with
    // the queue reread and the screen redrawn.
    app.update(Action::FocusQueue);
    app.update(Action::Top);
    let (mut done, mut undo) = (Vec::new(), Vec::new());
    let mut press = |app: &mut App, c: char, into: &mut Vec<Duration>| {
        let t0 = Instant::now();
        app.on_event(&ratatui::crossterm::event::Event::Key(ratatui::crossterm::event::KeyCode::Char(c).into()));
        draw(&mut term, app);
        into.push(t0.elapsed());
        settle(app, t0);
    };
    for _ in 0..20 {
        press(&mut app, 'd', &mut done);
        press(&mut app, 'u', &mut undo);
    }
    assert!(app.toasts.iter().any(|t| t.text.starts_with("Undone")), "the queue actions ran");
    stats(&format!("{label}: keystroke d (done: shown, sent to the writer)"), done);
    stats(&format!("{label}: keystroke u (undo)"), undo);
    stats(&format!("{label}: d / u until saved (flushed, toast shown)"), saved.take());
    app.update(Action::FocusAccounts);
    // Filter typing: one character at a time.
    let mut samples = Vec::new();
    for _ in 0..10 {
        app.update(Action::Filter);
        for c in "nor".chars() {
            let t0 = Instant::now();
            app.on_event(&ratatui::crossterm::event::Event::Key(ratatui::crossterm::event::KeyCode::Char(c).into()));
            draw(&mut term, &app);
            samples.push(t0.elapsed());
        }
        let t0 = Instant::now();
        app.on_event(&ratatui::crossterm::event::Event::Key(ratatui::crossterm::event::KeyCode::Esc.into()));
        draw(&mut term, &app);
        samples.push(t0.elapsed());
    }
    stats(&format!("{label}: keystroke filter char / clear"), samples);
    // The filter scan alone, to see what the keystroke spends on it.
    let mut book = app.book.clone();
    let mut samples = Vec::new();
    for _ in 0..20 {
        let t0 = Instant::now();
        book.set_filter("n");
        samples.push(t0.elapsed());
        book.set_filter("");
    }
    stats(&format!("{label}: filter scan of the whole book"), samples);
}

fn generate(dir: &Path, accounts: u64) {
    let t0 = Instant::now();
    let store = Store::open(dir).unwrap();
    demo::generate(&store, &DemoSpec { accounts, seed: demo::DEFAULT_SEED, now: Utc::now() }).unwrap();
    println!("generated {accounts} accounts in {:.1} s", t0.elapsed().as_secs_f64());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let accounts: u64 = arg("--accounts").and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let tmp = tempfile::tempdir().unwrap();

    let small = tmp.path().join("demo");
    generate(&small, demo::DEFAULT_ACCOUNTS);
    first_frame(&small, 30, "demo (150)");
    full_load(&small, 30, "demo (150)");
    keystrokes(&small, "demo (150)");

    let big: PathBuf = match arg("--big-dir") {
        Some(d) => PathBuf::from(d),
        None => {
            let d = tmp.path().join("big");
            generate(&d, accounts);
            d
        }
    };
    let label = format!("{}k", accounts / 1000);
    first_frame(&big, 10, &label);
    full_load(&big, 5, &label);
    keystrokes(&big, &label);
    println!("peak RSS {:.0} MB", peak_rss_mb());
}
