//! A ticket's conversation read from a fake Zendesk on 127.0.0.1 (the
//! comments endpoint, paged by cursor, authors sideloaded), kept in the
//! workspace and read back once the desk is out of reach; a server error
//! or a body that is not JSON says so and keeps the copy; and a workspace
//! filled by a real sync of both fakes shows its people, tickets and deals
//! in the account view.

use crate::common;
use crate::common::screen::text;
use crate::fake;
use crate::tui_account_view::screen;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use cockpit::domain::AccountId;
use cockpit::engine::writer::Writer;
use cockpit::store::Store;
use cockpit::sync::conversation::{refresh, FetchError};
use cockpit::sync::http::RetryPolicy;
use cockpit::sync::source::{Kind, Source};
use cockpit::sync::{self, Options};
use cockpit::tui::action::Action;
use cockpit::tui::app::Msg;
use cockpit::tui::effect::Effect;
use fake::desk::{Desk, SharedDesk};
use fake::Crm;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The ticket with a long conversation.
const TICKET: u64 = 42;

struct Env {
    desk: SharedDesk,
    sources: Vec<Source>,
    desk_env: String,
    _tmp: tempfile::TempDir,
    store: Store,
    acme: AccountId,
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
        timeout: Duration::from_secs(2),
        max_wait: Duration::from_secs(2),
    }
}

/// A CRM with Acme (a key person, a renewal deal) and a desk whose
/// organization is Acme's, with one ticket of 250 comments, synced.
async fn synced() -> Env {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let (crm_env, desk_env) = (format!("COCKPIT_TEST_CV_CRM_{n}"), format!("COCKPIT_TEST_CV_DESK_{n}"));
    std::env::set_var(&crm_env, "crm-secret");
    std::env::set_var(&desk_env, "desk-secret");
    let mut crm = Crm { token: "crm-secret".into(), ..Crm::default() };
    crm.add(1, "Acme Inc", 50_000, 1_700_000_000_000);
    let t0 = 1_700_000_000_000;
    let person = [("firstname", "Ann"), ("lastname", "Lee"), ("jobtitle", "VP Operations"), ("email", "ann@acme.com")];
    crm.put("contacts", 501, &person, t0, Some(1));
    let deal =
        [("dealname", "Acme renewal FY27"), ("dealtype", "renewal"), ("amount", "52000"), ("closedate", "2027-06-30")];
    crm.put("deals", 70, &deal, t0, Some(1));
    let crm_url = fake::start(Arc::new(Mutex::new(crm))).await;

    let mut desk = Desk {
        auth: format!("Basic {}", fake::base64(b"agent@acme.com/token:desk-secret")),
        page: 100,
        ..Desk::default()
    };
    desk.org(10, "ACME, Inc.", &[], Some("1"));
    desk.user(500 + TICKET, "Ana Lima", "ana@acme.com", "end-user", Some(10), true);
    desk.user(700, "Sam Agent", "sam@support.example", "agent", None, true);
    desk.ticket(TICKET, Some(10), "open", "Export fails");
    for i in 0..250 {
        let (author, public, body) = match i % 5 {
            0 => (500 + TICKET as i64, true, format!("Still failing ({i}). \u{1b}[31mRED\u{1b}[0m")),
            4 => (700, false, format!("Internal: checked the logs ({i})")),
            _ => (700, true, format!("We are on it ({i})")),
        };
        desk.comment(TICKET, author, &body, public, i);
    }
    desk.comment(TICKET, 999, "Merged from another ticket", true, 300);
    let desk: SharedDesk = Arc::new(Mutex::new(desk));
    let desk_url = fake::desk::start(desk.clone()).await;
    let sources = vec![
        fake::source("crm", Kind::Hubspot, crm_url, &crm_env, None),
        fake::source("desk", Kind::Zendesk, desk_url, &desk_env, Some("agent@acme.com")),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("ws")).unwrap();
    let opts = Options { full: false, only: None, policy: Some(quick()) };
    for r in sync::run(&store, &sources, &opts, &|_| {}).await.unwrap() {
        assert!(r.error.is_none(), "{:?}", r.error);
    }
    let acme = store.external_id("crm", "1").unwrap().unwrap();
    Env { desk, sources, desk_env, _tmp: tmp, store, acme }
}

/// The sources with the desk at an address nothing answers on.
fn desk_gone(e: &Env) -> Vec<Source> {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    vec![fake::source("desk", Kind::Zendesk, format!("http://127.0.0.1:{port}"), &e.desk_env, Some("agent@acme.com"))]
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 30, 0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_is_read_page_by_page_kept_and_read_offline_after() {
    let e = synced().await;
    let writer = Writer::spawn(e.store.clone());
    let c = refresh(&writer, &e.sources, TICKET, quick(), now()).await.unwrap();
    assert_eq!(c.comments.len(), 251);
    assert!(c.comments.windows(2).all(|w| w[0].at <= w[1].at), "oldest first");
    let asked: Vec<String> = e.desk.lock().unwrap().log.iter().filter(|l| l.starts_with("comments")).cloned().collect();
    assert_eq!(asked.len(), 3, "100 a page: {asked:?}");
    assert!(asked.iter().all(|l| l.contains("\"include\": \"users\"")), "{asked:?}");
    assert_eq!(c.comments[0].author, "Ana Lima", "sideloaded");
    assert_eq!(c.comments[1].author, "Sam Agent");
    assert!(!c.comments[4].public, "an internal note");
    assert_eq!(c.comments[4].body, "Internal: checked the logs (4)", "the plain body, not the HTML one");
    assert_eq!(c.comments[250].author, "user 999", "an author the desk does not name");
    assert_eq!(e.store.conversation(TICKET).unwrap().as_ref(), Some(&c), "kept in the workspace");

    // The desk out of reach: it says so, and the copy stays.
    let gone = desk_gone(&e);
    let err = refresh(&writer, &gone, TICKET, quick(), now() + chrono::Duration::hours(1)).await.unwrap_err();
    assert!(matches!(err, FetchError::Offline { .. }), "{err:?}");
    assert_eq!(e.store.conversation(TICKET).unwrap().as_ref(), Some(&c));

    // The cockpit reads the kept copy without the desk, and says why a
    // refresh brought nothing.
    let mut app = common::app(e.store.clone(), common::theme("dark"));
    app.select(e.acme);
    app.update(Action::Open);
    app.settle();
    app.update(Action::NextSection);
    app.update(Action::NextSection);
    screen(&mut app, 100, 30);
    app.update(Action::Down);
    app.update(Action::Open);
    let effects = app.settle();
    assert!(effects.is_empty(), "a kept copy: nothing to fetch: {effects:?}");
    let buf = screen(&mut app, 100, 30);
    let t = text(&buf);
    assert!(t.contains("251 comments · kept as of 2026-11-26 09:30"), "{t}");
    assert!(t.contains("Ana Lima · 2026-11-01 10:00 · public reply") && t.contains("Still failing (0). RED"), "{t}");
    assert!(buf.content().iter().all(|c| !c.symbol().contains('\u{1b}')), "no escape reaches the screen");
    app.update(Action::Refresh);
    let asked = app.settle();
    assert!(matches!(asked.as_slice(), [Effect::FetchConversation(TICKET)]), "{asked:?}");
    let result = refresh(&writer, &gone, TICKET, quick(), now()).await;
    app.on_msg(Msg::Conversation(TICKET, result));
    let t = text(&screen(&mut app, 100, 30));
    assert!(t.contains("Offline: could not reach Zendesk ("), "{t}");
    assert!(t.contains("showing the copy kept as of 2026-11-26"), "{t}");
    assert!(t.contains("Still failing (0)"), "the copy stays on screen: {t}");
    // The bottom of a long conversation is reached too.
    app.update(Action::Bottom);
    let t = text(&screen(&mut app, 100, 30));
    assert!(t.contains("Merged from another ticket") && t.contains("user 999"), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_or_a_body_that_is_not_json_says_so_and_keeps_the_copy() {
    let e = synced().await;
    let writer = Writer::spawn(e.store.clone());
    let kept = refresh(&writer, &e.sources, TICKET, quick(), now()).await.unwrap();
    // 500 on every attempt.
    e.desk.lock().unwrap().faults.extend((0..3).map(|_| (500, vec![])));
    let err = refresh(&writer, &e.sources, TICKET, quick(), now() + chrono::Duration::hours(1)).await.unwrap_err();
    let said = err.describe("showing the copy kept as of 2026-11-26 09:30");
    assert!(said.starts_with("Could not read the conversation: desk: the server answered HTTP 500"), "{said}");
    assert!(said.ends_with("try again later; showing the copy kept as of 2026-11-26 09:30"), "{said}");
    assert_eq!(e.store.conversation(TICKET).unwrap(), Some(kept.clone()), "the copy stays");
    // A body that is not what Zendesk documents.
    e.desk.lock().unwrap().garbage_comments = 1;
    let err = refresh(&writer, &e.sources, TICKET, quick(), now() + chrono::Duration::hours(2)).await.unwrap_err();
    let said = err.describe("showing nothing kept yet");
    assert!(said.contains("is not what Zendesk documents"), "{said}");
    assert_eq!(e.store.conversation(TICKET).unwrap(), Some(kept), "the copy stays");

    // In the cockpit, a ticket never read and a desk answering garbage:
    // the view says why there is nothing.
    e.desk.lock().unwrap().ticket(43, Some(10), "open", "Login loops");
    let opts = Options { full: false, only: Some("desk".into()), policy: Some(quick()) };
    sync::run(&e.store, &e.sources, &opts, &|_| {}).await.unwrap();
    e.desk.lock().unwrap().garbage_comments = 1;
    let mut app = common::app(e.store.clone(), common::theme("dark"));
    app.select(e.acme);
    app.update(Action::Open);
    app.settle();
    app.update(Action::NextSection);
    app.update(Action::NextSection);
    screen(&mut app, 100, 30);
    // Down to #43's first line (each ticket takes three lines here).
    let at = {
        let full = app.overlays.account.as_ref().unwrap().full.as_ref().unwrap();
        cockpit::tui::panes::account_lines::ordered(&full.tickets).iter().position(|v| v.ticket.id == 43).unwrap()
    };
    for _ in 0..1 + 3 * at {
        app.update(Action::Down);
    }
    app.update(Action::Open);
    let asked = app.settle();
    assert!(matches!(asked.as_slice(), [Effect::FetchConversation(43)]), "nothing kept: read from the desk: {asked:?}");
    let t = text(&screen(&mut app, 100, 30));
    assert!(t.contains("Reading the conversation from the desk…"), "{t}");
    let result = refresh(&writer, &e.sources, 43, quick(), now()).await;
    app.on_msg(Msg::Conversation(43, result));
    let t = text(&screen(&mut app, 100, 30));
    assert!(t.contains("Could not read the conversation: desk: the answer to"), "{t}");
    assert!(t.contains("showing nothing kept yet"), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synced_workspace_shows_its_people_tickets_and_deals() {
    let e = synced().await;
    let mut app = common::app(e.store.clone(), common::theme("dark"));
    app.select(e.acme);
    app.update(Action::Open);
    app.settle();
    let mut all = String::new();
    for _ in 0..4 {
        all.push_str(&text(&screen(&mut app, 120, 40)));
        app.update(Action::NextSection);
    }
    for want in [
        "Acme Inc",
        "★ Ann Lee · VP Operations",
        "ann@acme.com",
        "Ana Lima",
        "ana@acme.com",
        "#42 Export fails",
        "open · normal priority",
        "by Ana Lima <ana@acme.com>",
        "Acme renewal FY27",
        "renewal · open · $52k · closes 2027-06-30",
    ] {
        assert!(all.contains(want), "{want} missing:\n{all}");
    }
    // A CRM-only session with no desk and nothing kept says so.
    let none: Vec<Source> = Vec::new();
    let writer = Writer::spawn(e.store.clone());
    let err = refresh(&writer, &none, TICKET, quick(), now()).await.unwrap_err();
    assert_eq!(err, FetchError::NoDesk);
    assert_eq!(err.describe("showing nothing kept yet"), "No support desk configured; showing nothing kept yet");
}
