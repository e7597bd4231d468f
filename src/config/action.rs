//! Everything a key can do, in every mode. Actions are data: keymaps name
//! them in TOML, and each mode accepts its own (see `keys::KeyMode`).

use serde::Deserialize;

/// A user intent, independent of the key that asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Leave the cockpit.
    Quit,
    /// Close the overlay, clear the filter, or unzoom; never quits.
    Back,
    /// Move the cursor up.
    Up,
    /// Move the cursor down.
    Down,
    /// Move left (kanban column).
    Left,
    /// Move right (kanban column).
    Right,
    /// Jump to the first item.
    Top,
    /// Jump to the last item.
    Bottom,
    /// Scroll up a page.
    PageUp,
    /// Scroll down a page.
    PageDown,
    /// Focus the next pane.
    FocusNext,
    /// Focus the previous pane.
    FocusPrev,
    /// Focus the accounts pane.
    FocusAccounts,
    /// Focus the health pane.
    FocusHealth,
    /// Focus the kanban pane.
    FocusKanban,
    /// Focus the follow-up queue.
    FocusQueue,
    /// Type a filter for the accounts table.
    Filter,
    /// Show or hide the help overlay.
    Help,
    /// Show or hide the portfolio metrics overlay.
    Metrics,
    /// Open the selected account's full view (from the queue: the item's account).
    Detail,
    /// Set your sentiment (1-5) on the selected account.
    Sentiment,
    /// Sort the accounts table by the next column.
    SortNext,
    /// Reverse the sort direction.
    SortReverse,
    /// Move the selected account to the next lifecycle stage.
    StageNext,
    /// Move the selected account to the previous lifecycle stage.
    StagePrev,
    /// Maximise the focused pane, or restore the grid.
    Zoom,
    /// Open the selected account's full view (from the queue: the item's
    /// account); in the account view, open the ticket's conversation.
    Open,
    /// Sync the configured sources now.
    Sync,
    /// Mark or unmark the queue item for an action on several at once.
    Mark,
    /// Mark the item (or the marked ones) done.
    Done,
    /// Snooze the item: 1 day, 3 days, a week or until a date, with a reason.
    Snooze,
    /// Add a note on the item's account (inline editor).
    Note,
    /// Add a note in `$EDITOR`.
    NoteEditor,
    /// Reply on the item's ticket with a saved reply.
    Reply,
    /// Escalate the item (manager, or engineering for a bug).
    Escalate,
    /// Close the item's ticket.
    CloseTicket,
    /// Log a call, meeting or email with the customer.
    Log,
    /// A task with a due date and time on the selected account.
    Task,
    /// Take back the last action.
    Undo,
    /// The list of recent actions, to undo several at once.
    UndoList,
    /// Show the outbox: writes waiting for, failed at or conflicting with a vendor.
    Outbox,
    /// Close the overlay (help, account view, metrics, outbox).
    Close,
    /// The account view: jump to the next section.
    NextSection,
    /// The account view: jump to the previous section.
    PrevSection,
    /// The account view: show the timeline's next kind of entry only (then all).
    TimelineKind,
    /// The account view: read the open conversation from the desk again.
    Refresh,
    /// Keep the filter as typed and go back to the panes.
    Keep,
    /// Clear the filter and go back to the panes.
    Clear,
    /// Leave the prompt, menu or editor without doing anything.
    Cancel,
    /// Send an outbox entry again.
    Retry,
    /// Edit an outbox entry's text.
    Edit,
    /// Discard an outbox entry: it will not be sent.
    Discard,
    /// Save or send the editor's text.
    Submit,
    /// Continue the editor's text in `$EDITOR`.
    ExternalEditor,
    /// Undo list: take back every action down to the one under the cursor.
    UndoTo,
    /// A question: yes.
    Yes,
    /// A question: no.
    No,
    /// Sentiment 1: worried.
    #[serde(rename = "sentiment_1")]
    Sentiment1,
    /// Sentiment 2.
    #[serde(rename = "sentiment_2")]
    Sentiment2,
    /// Sentiment 3: neutral.
    #[serde(rename = "sentiment_3")]
    Sentiment3,
    /// Sentiment 4.
    #[serde(rename = "sentiment_4")]
    Sentiment4,
    /// Sentiment 5: confident.
    #[serde(rename = "sentiment_5")]
    Sentiment5,
}

impl Action {
    /// Every action of the panes (normal mode), in help order.
    pub const NORMAL: [Action; 41] = [
        Action::Up,
        Action::Down,
        Action::Left,
        Action::Right,
        Action::Top,
        Action::Bottom,
        Action::PageUp,
        Action::PageDown,
        Action::FocusNext,
        Action::FocusPrev,
        Action::FocusAccounts,
        Action::FocusHealth,
        Action::FocusKanban,
        Action::FocusQueue,
        Action::Open,
        Action::Mark,
        Action::Done,
        Action::Snooze,
        Action::Note,
        Action::NoteEditor,
        Action::Reply,
        Action::Escalate,
        Action::CloseTicket,
        Action::Log,
        Action::Task,
        Action::Undo,
        Action::UndoList,
        Action::Outbox,
        Action::Filter,
        Action::SortNext,
        Action::SortReverse,
        Action::StageNext,
        Action::StagePrev,
        Action::Zoom,
        Action::Sync,
        Action::Detail,
        Action::Sentiment,
        Action::Metrics,
        Action::Help,
        Action::Back,
        Action::Quit,
    ];

    /// The actions of the other modes only (overlays, prompts, the editor).
    const OTHER_MODES: [Action; 21] = [
        Action::Close,
        Action::NextSection,
        Action::PrevSection,
        Action::TimelineKind,
        Action::Refresh,
        Action::Keep,
        Action::Clear,
        Action::Cancel,
        Action::Retry,
        Action::Edit,
        Action::Discard,
        Action::Submit,
        Action::ExternalEditor,
        Action::UndoTo,
        Action::Yes,
        Action::No,
        Action::Sentiment1,
        Action::Sentiment2,
        Action::Sentiment3,
        Action::Sentiment4,
        Action::Sentiment5,
    ];

    /// Every action of every mode: the panes' first, in help order.
    pub const ALL: [Action; 62] = concat(Action::NORMAL, Action::OTHER_MODES);

    /// What the action does, for the help overlay.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Back => "back: close, clear filter, unzoom",
            Action::Up => "move up",
            Action::Down => "move down",
            Action::Left => "previous kanban column",
            Action::Right => "next kanban column",
            Action::Top => "first item",
            Action::Bottom => "last item",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::FocusNext => "next pane",
            Action::FocusPrev => "previous pane",
            Action::FocusAccounts => "accounts pane",
            Action::FocusHealth => "health pane",
            Action::FocusKanban => "lifecycle kanban",
            Action::FocusQueue => "follow-up queue",
            Action::Filter => "filter accounts",
            Action::Help => "this help",
            Action::Metrics => "portfolio metrics",
            Action::Detail => "the account view: everything on it",
            Action::Sentiment => "set your sentiment (1-5)",
            Action::SortNext => "sort by next column",
            Action::SortReverse => "reverse sort",
            Action::StageNext => "move account to next stage",
            Action::StagePrev => "move account to prev stage",
            Action::Zoom => "maximise / restore pane",
            Action::Open => "open the account view",
            Action::Sync => "sync sources now",
            Action::Mark => "mark item (act on several)",
            Action::Done => "follow-up done",
            Action::Snooze => "snooze: 1d / 3d / 1w / date",
            Action::Note => "add a note (ctrl-s saves)",
            Action::NoteEditor => "add a note in $EDITOR",
            Action::Reply => "reply with a saved reply",
            Action::Escalate => "escalate: manager or eng.",
            Action::CloseTicket => "close the ticket",
            Action::Log => "log call / meeting / email",
            Action::Task => "task with a due date",
            Action::Undo => "undo the last action",
            Action::UndoList => "recent actions, to undo",
            Action::Outbox => "outbox: pending, failed, conflicts",
            Action::Close => "close",
            Action::NextSection => "next section",
            Action::PrevSection => "previous section",
            Action::TimelineKind => "timeline: next kind only",
            Action::Refresh => "read the conversation again",
            Action::Keep => "keep",
            Action::Clear => "clear",
            Action::Cancel => "cancel",
            Action::Retry => "retry",
            Action::Edit => "edit",
            Action::Discard => "discard",
            Action::Submit => "save",
            Action::ExternalEditor => "$EDITOR",
            Action::UndoTo => "undo down to here",
            Action::Yes => "yes",
            Action::No => "no",
            Action::Sentiment1 => "worried",
            Action::Sentiment2 => "uneasy",
            Action::Sentiment3 => "neutral",
            Action::Sentiment4 => "hopeful",
            Action::Sentiment5 => "confident",
        }
    }

    /// The action's name as written in keymaps.
    pub fn name(self) -> String {
        // serde's snake_case names, recovered from the Debug name (a
        // sentiment's digit gets its own word: `sentiment_1`).
        let debug = format!("{self:?}");
        let mut out = String::new();
        for (i, c) in debug.chars().enumerate() {
            if (c.is_uppercase() || c.is_ascii_digit()) && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    /// Parses an action name.
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// Two lists of actions as one (for `Action::ALL`).
const fn concat(first: [Action; 41], then: [Action; 21]) -> [Action; 62] {
    let mut out = [Action::Up; 62];
    let mut i = 0;
    while i < first.len() {
        out[i] = first[i];
        i += 1;
    }
    while i < out.len() {
        out[i] = then[i - first.len()];
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for a in Action::ALL {
            assert_eq!(Action::parse(&a.name()), Some(a));
            let via_serde: Action = serde_json::from_str(&format!("\"{}\"", a.name())).unwrap();
            assert_eq!(via_serde, a);
        }
        assert_eq!(Action::StageNext.name(), "stage_next");
        assert_eq!(Action::Sentiment3.name(), "sentiment_3");
        assert_eq!(Action::ExternalEditor.name(), "external_editor");
        let mut names: Vec<String> = Action::ALL.iter().map(|a| a.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len(), "each action once");
        assert_eq!(Action::parse("nope"), None);
    }
}
