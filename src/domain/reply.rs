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

impl Vars {
    /// The variables of a reply on a ticket.
    pub fn for_ticket(requester: &str, subject: &str, ticket: u64, account: &str, csm: &str) -> Vars {
        let first = requester.split_whitespace().next().unwrap_or("there");
        let mut values = BTreeMap::new();
        values.insert("first_name", first.to_string());
        values.insert("requester", requester.trim().to_string());
        values.insert("subject", subject.trim().to_string());
        values.insert("ticket", ticket.to_string());
        values.insert("account", account.trim().to_string());
        values.insert("csm", csm.trim().to_string());
        Vars { values }
    }
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

    fn vars() -> Vars {
        Vars::for_ticket("Ana Lima", "Export fails", 35436, "Acme", "Dana")
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
        let v = Vars::for_ticket("  ", "s", 1, "a", "c");
        assert_eq!(fill("Hi {first_name}", &v), "Hi there");
    }

    #[test]
    fn builtin_replies_fill_completely() {
        for t in builtin() {
            let filled = fill(&t.text, &vars());
            assert!(!filled.contains('{'), "{}: {filled}", t.name);
        }
    }
}
