//! Saved replies: named templates with variables such as `{first_name}`,
//! filled from the ticket, its account and the CSM before the editor opens.

use std::collections::BTreeMap;

/// A saved reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Name shown in the picker ("follow-up").
    pub name: String,
    /// Text with `{variables}`.
    pub text: String,
}

/// The replies every workspace has until the config or `replies/` adds its own.
pub fn builtin() -> Vec<Template> {
    let t = |name: &str, text: &str| Template { name: name.into(), text: text.into() };
    vec![
        t(
            "follow-up",
            "Hi {first_name},\n\nI wanted to check whether my last answer on \"{subject}\" solved it for you, \
             or whether anything is still in the way.\n\nBest,\n{csm}",
        ),
        t(
            "next-steps",
            "Hi {first_name},\n\nTo move \"{subject}\" forward, could you tell me:\n\n- \n\nThanks,\n{csm}",
        ),
        t(
            "closing",
            "Hi {first_name},\n\nI have not heard back on \"{subject}\", so I will close this ticket for now. \
             Reply here at any time and it reopens.\n\nBest,\n{csm}",
        ),
    ]
}

/// What the variables stand for.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// Values by name.
    pub values: BTreeMap<&'static str, String>,
}

/// Who a reply goes to, as the synced users know them.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    /// Their first name, when the desk knows their name.
    pub first_name: Option<String>,
    /// Their full name, when known.
    pub name: Option<String>,
}

impl Vars {
    /// The variables of a reply on a ticket. A requester with no known
    /// name is greeted as "there"; with no `csm` (no `author` in the
    /// config) `{csm}` stays as written, so the reply cannot go out unsigned.
    pub fn for_ticket(requester: &Requester, subject: &str, ticket: u64, account: &str, csm: Option<&str>) -> Vars {
        let mut values = BTreeMap::new();
        let first = requester.first_name.as_deref().map(str::trim).filter(|f| !f.is_empty());
        values.insert("first_name", first.unwrap_or("there").to_string());
        let name = requester.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
        values.insert("requester", name.or(first).unwrap_or("there").to_string());
        values.insert("subject", subject.trim().to_string());
        values.insert("ticket", ticket.to_string());
        values.insert("account", account.trim().to_string());
        if let Some(csm) = csm.map(str::trim).filter(|c| !c.is_empty()) {
            values.insert("csm", csm.to_string());
        }
        Vars { values }
    }
}

/// The `{variables}` a text still holds (a name of lower-case letters,
/// digits and underscores between braces; `{{` is a brace, not a variable).
pub fn unresolved(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        rest = &rest[i..];
        if let Some(after) = rest.strip_prefix("{{") {
            rest = after;
            continue;
        }
        let body = &rest[1..];
        let end = body.find('}');
        match end {
            Some(e)
                if e > 0 && body[..e].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
            {
                let name = format!("{{{}}}", &body[..e]);
                if !out.contains(&name) {
                    out.push(name);
                }
                rest = &body[e + 1..];
            }
            _ => rest = body,
        }
    }
    out
}

/// Fills `{name}` with its value. An unknown name is left as written, so
/// a typo shows in the editor instead of vanishing; `{{` gives `{`.
pub fn fill(text: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(after) = rest.strip_prefix("{{") {
            out.push('{');
            rest = after;
            continue;
        }
        match rest[1..].find('}') {
            Some(end) => {
                let name = &rest[1..1 + end];
                match vars.values.get(name) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&rest[..end + 2]),
                }
                rest = &rest[end + 2..];
            }
            None => {
                out.push_str(rest);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ana() -> Requester {
        Requester { first_name: Some("Ana".into()), name: Some("Ana Lima".into()) }
    }

    fn vars() -> Vars {
        Vars::for_ticket(&ana(), "Export fails", 35436, "Acme", Some("Dana"))
    }

    #[test]
    fn fills_known_variables_and_keeps_unknown_ones() {
        assert_eq!(
            fill("Hi {first_name}, about #{ticket} ({subject}) at {account}. {csm} {nope} {{x}", &vars()),
            "Hi Ana, about #35436 (Export fails) at Acme. Dana {nope} {x}"
        );
        assert_eq!(fill("unclosed {first_name", &vars()), "unclosed {first_name");
    }

    #[test]
    fn a_nameless_requester_is_greeted_anyway() {
        let v = Vars::for_ticket(&Requester::default(), "s", 1, "a", Some("c"));
        assert_eq!(fill("Hi {first_name}, {requester}", &v), "Hi there, there");
    }

    #[test]
    fn with_no_author_the_signature_stays_unresolved_and_is_found() {
        let v = Vars::for_ticket(&ana(), "s", 1, "a", None);
        let text = fill("Hi {first_name},\n\nBest,\n{csm}", &v);
        assert_eq!(text, "Hi Ana,\n\nBest,\n{csm}");
        assert_eq!(unresolved(&text), vec!["{csm}".to_string()]);
        assert!(unresolved("code like {{x}} and {Not a var} and {} is fine").is_empty());
        assert_eq!(unresolved("{a} {b_2} {a}"), vec!["{a}".to_string(), "{b_2}".to_string()]);
    }

    #[test]
    fn builtin_replies_fill_completely() {
        for t in builtin() {
            let filled = fill(&t.text, &vars());
            assert!(!filled.contains('{'), "{}: {filled}", t.name);
        }
    }
}
