//! Lexer for Open vSwitch flow text (`ovs-ofctl add-flow` syntax), shared by the match parser and
//! the OpenFlow rule parser.
//!
//! Items are separated by commas and/or white space. An item is a bare `key`, `key=value`,
//! `key:value` or `key(value)`. After `=` or `:` the value runs to the next comma or white space,
//! except that parentheses nest (so `learn(a=1,b=2)` stays one value); after `(` it runs to the
//! matching `)`, and the form `key(x)->y` keeps `x)->y` as the value. `actions=` is not special
//! here: [`split_actions`] cuts it off first, exactly where Open vSwitch does.
//!
//! # Invariants
//! * Keys and values are sub-slices of the input; every [`Item`] records the byte offsets of its key
//!   and value in the original input (plus the lexer's base offset), so errors can point at them.
//! * A NUL byte ends the input (Open vSwitch works on C strings).
//! * The lexer never fails and never panics: any input yields a finite sequence of items.

/// The character that followed an item's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemForm {
    /// A bare keyword, e.g. `tcp` (followed by a separator or the end).
    Bare,
    /// `key=value`.
    Equals,
    /// `key:value`.
    Colon,
    /// `key(value)`.
    Paren,
}

/// One `key[=value]` item of flow text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item<'a> {
    /// The key (may be empty for input such as `=5`).
    pub key: &'a str,
    /// Byte offset of the key.
    pub key_pos: usize,
    /// The value; empty for a bare keyword.
    pub value: &'a str,
    /// Byte offset of the value (the end of the key for a bare keyword).
    pub value_pos: usize,
    /// How the key and the value were joined.
    pub form: ItemForm,
}

const SEPARATORS: &[u8] = b", \t\r\n";
const KEY_ENDS: &[u8] = b":=(, \t\r\n";

/// Iterator over the items of flow text.
#[derive(Clone, Debug)]
pub struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    base: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer over `input`; positions are offsets into `input`.
    pub fn new(input: &'a str) -> Lexer<'a> {
        Lexer::with_offset(input, 0)
    }

    /// A lexer over `input` that is itself found at byte `base` of a larger text; reported
    /// positions are offsets into that larger text.
    pub fn with_offset(input: &'a str, base: usize) -> Lexer<'a> {
        let input = input.split('\0').next().unwrap_or("");
        Lexer {
            input,
            pos: 0,
            base,
        }
    }

    /// The not yet consumed rest of the input.
    pub fn remainder(&self) -> &'a str {
        self.input.get(self.pos..).unwrap_or("")
    }
}

/// Length of a value that ends at one of `delimiters` (or the end), skipping over balanced
/// parentheses; an unbalanced `(` extends the value to the end.
fn value_len(s: &[u8], delimiters: &[u8]) -> usize {
    let mut n = 0;
    while let Some(&c) = s.get(n) {
        if delimiters.contains(&c) {
            break;
        }
        if c == b'(' {
            let mut depth = 0usize;
            loop {
                match s.get(n) {
                    None => return n,
                    Some(b'(') => depth += 1,
                    Some(b')') => depth -= 1,
                    Some(_) => {}
                }
                n += 1;
                if depth == 0 {
                    break;
                }
            }
        } else {
            n += 1;
        }
    }
    n
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        let bytes = self.input.as_bytes();
        while bytes.get(self.pos).is_some_and(|c| SEPARATORS.contains(c)) {
            self.pos += 1;
        }
        if self.pos >= bytes.len() {
            return None;
        }
        let key_start = self.pos;
        let key_len = bytes[key_start..]
            .iter()
            .take_while(|c| !KEY_ENDS.contains(c))
            .count();
        let key_end = key_start + key_len;
        let key = self.input.get(key_start..key_end).unwrap_or("");
        let delimiter = bytes.get(key_end).copied();
        self.pos = key_end + usize::from(delimiter.is_some());
        let (form, delimiters): (ItemForm, &[u8]) = match delimiter {
            Some(b'=') => (ItemForm::Equals, SEPARATORS),
            Some(b':') => (ItemForm::Colon, SEPARATORS),
            Some(b'(') => (ItemForm::Paren, b")"),
            _ => {
                return Some(Item {
                    key,
                    key_pos: self.base + key_start,
                    value: "",
                    value_pos: self.base + key_end,
                    form: ItemForm::Bare,
                });
            }
        };
        let value_start = self.pos;
        let rest = &bytes[value_start..];
        let mut len = value_len(rest, delimiters);
        if form == ItemForm::Paren
            && rest.get(len) == Some(&b')')
            && rest.get(len + 1..len + 3) == Some(b"->")
        {
            len += value_len(&rest[len..], SEPARATORS);
        }
        let value_end = value_start + len;
        let value = self.input.get(value_start..value_end).unwrap_or("");
        self.pos = value_end + usize::from(value_end < bytes.len());
        Some(Item {
            key,
            key_pos: self.base + key_start,
            value,
            value_pos: self.base + value_start,
            form,
        })
    }
}

/// Flow text cut into its match part and its actions, as `ovs-ofctl` does it for flows that
/// carry actions (`add`, `modify`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActionSplit<'a> {
    /// Everything before the first occurrence of `action` (the whole input if there is none).
    pub matches: &'a str,
    /// The text after the first `=` that follows `action`, with its byte offset; `None` if the
    /// input has no `action` or no `=` after it (Open vSwitch then says "must specify an action").
    pub actions: Option<(&'a str, usize)>,
}

/// Splits flow text at the first `action` substring: the match part ends there and the actions
/// start after the next `=` (so `actions=` takes the rest of the string, commas included).
pub fn split_actions(input: &str) -> ActionSplit<'_> {
    let input = input.split('\0').next().unwrap_or("");
    let Some(at) = input.find("action") else {
        return ActionSplit {
            matches: input,
            actions: None,
        };
    };
    let matches = input.get(..at).unwrap_or("");
    let actions = input
        .get(at + 1..)
        .and_then(|tail| tail.find('='))
        .map(|eq| at + 1 + eq + 1)
        .map(|start| (input.get(start..).unwrap_or(""), start));
    ActionSplit { matches, actions }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(s: &str) -> Vec<(&str, &str, usize, usize)> {
        Lexer::new(s)
            .map(|i| (i.key, i.value, i.key_pos, i.value_pos))
            .collect()
    }

    #[test]
    fn separators_and_forms() {
        assert_eq!(
            items(" tcp, nw_dst=10.0.0.0/24 tp_dst:80,in_port(1)"),
            vec![
                ("tcp", "", 1, 4),
                ("nw_dst", "10.0.0.0/24", 6, 13),
                ("tp_dst", "80", 25, 32),
                ("in_port", "1", 35, 43),
            ]
        );
        let forms: Vec<ItemForm> = Lexer::new("a b=1 c:2 d(3)").map(|i| i.form).collect();
        assert_eq!(
            forms,
            vec![
                ItemForm::Bare,
                ItemForm::Equals,
                ItemForm::Colon,
                ItemForm::Paren
            ]
        );
    }

    #[test]
    fn parentheses_nest_inside_values() {
        assert_eq!(
            items("x=learn(a=1,b=(2)),y"),
            vec![("x", "learn(a=1,b=(2))", 0, 2), ("y", "", 19, 20)]
        );
        assert_eq!(items("f(g(h),i)"), vec![("f", "g(h),i", 0, 2)]);
        assert_eq!(
            items("move(a)->b,c"),
            vec![("move", "a)->b", 0, 5), ("c", "", 11, 12)]
        );
        assert_eq!(items("x=a(b"), vec![("x", "a(b", 0, 2)]);
    }

    #[test]
    fn edge_cases() {
        assert_eq!(items(""), vec![]);
        assert_eq!(items(" ,, \t"), vec![]);
        assert_eq!(items("=5"), vec![("", "5", 0, 1)]);
        assert_eq!(items("a="), vec![("a", "", 0, 2)]);
        assert_eq!(items("a,b\0c"), vec![("a", "", 0, 1), ("b", "", 2, 3)]);
        assert_eq!(
            Lexer::with_offset("ip", 7).next().map(|i| i.key_pos),
            Some(7)
        );
    }

    #[test]
    fn actions_take_the_rest() {
        let s = split_actions("tcp,tp_dst=80 actions=output:1,drop");
        assert_eq!(s.matches, "tcp,tp_dst=80 ");
        assert_eq!(s.actions, Some(("output:1,drop", 22)));
        assert_eq!(split_actions("ip").actions, None);
        assert_eq!(split_actions("ip,actions").actions, None);
        assert_eq!(split_actions("ip,action=drop").actions, Some(("drop", 10)));
    }
}
