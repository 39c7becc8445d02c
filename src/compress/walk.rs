//! Pure: finds the tool outputs in a request body and where their text sits in the bytes, without
//! re-serializing anything. Anthropic `tool_result` blocks (string or text-block content), OpenAI
//! Responses `function_call_output` items and Chat Completions `tool` messages. A body this room
//! does not understand yields no candidates, and is then forwarded unchanged. Each output comes
//! with the call it answers (tool name and arguments), found by its id in the turn before.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::body::Read;
use crate::providers::Family;

/// One tool output in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput<'a> {
    /// Byte range of its JSON string in the body.
    pub span: Range<usize>,
    /// Its JSON string as the body has it (quotes and escapes included): enough to recognize an
    /// output seen before, which is most of them, without unescaping it.
    pub json: &'a str,
    /// Whether it arrived in this request's newest turn (not yet in the provider's cache).
    pub is_newest: bool,
    /// The call it answers, when the body holds it.
    pub call: Option<Call<'a>>,
}

impl ToolOutput<'_> {
    /// The text, unescaped.
    pub fn text(&self) -> Option<String> {
        unescape(self.json)
    }
}

/// The text of a JSON string (quotes included), or `None` when it is not one serde_json would
/// read. Tool outputs are long and mostly plain: runs without a backslash are copied whole into a
/// string sized once, where a general parser grows its buffer escape by escape.
fn unescape(json: &str) -> Option<String> {
    let inner = json.strip_prefix('"')?.strip_suffix('"')?;
    // Raw control characters are not allowed in a JSON string. (Checked a block at a time, which
    // the compiler turns into vector instructions.)
    let has_control = |block: &[u8]| block.iter().fold(false, |any, &byte| any | (byte < 0x20));
    if inner.as_bytes().chunks(64).any(has_control) {
        return None;
    }
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(at) = memchr::memchr2(b'\\', b'"', rest.as_bytes()) {
        out.push_str(&rest[..at]);
        let bytes = rest.as_bytes();
        if bytes[at] == b'"' {
            return None;
        }
        let (decoded, used) = match *bytes.get(at + 1)? {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            b'u' => {
                let first = hex4(rest.get(at + 2..at + 6)?)?;
                match first {
                    0xD800..=0xDBFF => {
                        let low = rest
                            .get(at + 6..at + 8)
                            .filter(|escape| *escape == "\\u")
                            .and_then(|_| hex4(rest.get(at + 8..at + 12)?))
                            .filter(|low| (0xDC00..=0xDFFF).contains(low))?;
                        let code = 0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00);
                        (char::from_u32(code)?, 12)
                    }
                    _ => (char::from_u32(first)?, 6),
                }
            }
            _ => return None,
        };
        out.push(decoded);
        rest = &rest[at + used..];
    }
    out.push_str(rest);
    Some(out)
}

/// The value of four hex digits.
fn hex4(digits: &str) -> Option<u32> {
    if digits.len() != 4 || !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

// The conversation is parsed in one pass, and only a tool output's own string is left raw: a
// long session's request holds every earlier output, and each extra pass over them costs.
#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    role: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
    /// Chat Completions: the calls an assistant message makes.
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ChatCall<'a>>>,
    /// Chat Completions: the call a `tool` message answers.
    #[serde(borrow, default)]
    tool_call_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ChatCall<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    function: Option<ChatFunction<'a>>,
}

#[derive(Deserialize)]
struct ChatFunction<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Block<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
    /// `tool_use`: the call's id, tool and arguments.
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    input: Option<&'a RawValue>,
    /// `tool_result`: the call it answers.
    #[serde(borrow, default)]
    tool_use_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    output: Option<&'a RawValue>,
    #[serde(borrow, default)]
    call_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    /// `function_call`: the arguments, a JSON text in a string.
    #[serde(borrow, default)]
    arguments: Option<Cow<'a, str>>,
    /// `custom_tool_call`: the free-form input.
    #[serde(borrow, default)]
    input: Option<Cow<'a, str>>,
}

/// The call a tool output answers: which tool, with which arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call<'a> {
    pub name: Cow<'a, str>,
    /// The arguments as the agent wrote them (a JSON text for most tools).
    pub input: Cow<'a, str>,
}

/// Calls by id.
type Calls<'a> = HashMap<Cow<'a, str>, Call<'a>>;

/// The tool outputs in `body` (already read: `read`), in byte order, each with the call it
/// answers when the body has it.
pub fn tool_outputs<'a>(body: &'a [u8], read: &Read<'a>, family: Family) -> Vec<ToolOutput<'a>> {
    let messages = || {
        read.messages
            .and_then(|raw| serde_json::from_str::<Vec<Message<'a>>>(raw.get()).ok())
    };
    let mut found = Vec::new();
    match (family, read.messages.is_some(), read.input) {
        (Family::Anthropic, true, _) => {
            if let Some(messages) = messages() {
                anthropic(body, &messages, &mut found);
            }
        }
        (Family::OpenAi, true, _) => {
            if let Some(messages) = messages() {
                chat(body, messages, &mut found);
            }
        }
        (Family::OpenAi, false, Some(input)) => responses(body, input, &mut found),
        _ => {}
    }
    found
}

/// Claude's newest turn is the last message; its `tool_result` blocks are the new outputs.
fn anthropic<'a>(body: &'a [u8], messages: &[Message<'a>], found: &mut Vec<ToolOutput<'a>>) {
    let parsed: Vec<Vec<Block<'a>>> = messages
        .iter()
        .map(|message| blocks(message.content))
        .collect();
    let mut calls = Calls::new();
    for (message, blocks) in messages.iter().zip(&parsed) {
        if message.role.as_deref() != Some("assistant") {
            continue;
        }
        for block in blocks {
            if block.kind.as_deref() == Some("tool_use")
                && let (Some(id), Some(name)) = (&block.id, &block.name)
            {
                let input = block
                    .input
                    .map_or(Cow::Borrowed("{}"), |raw| raw.get().into());
                calls.insert(
                    id.clone(),
                    Call {
                        name: name.clone(),
                        input,
                    },
                );
            }
        }
    }
    for (index, (message, blocks)) in messages.iter().zip(&parsed).enumerate() {
        if message.role.as_deref() != Some("user") {
            continue;
        }
        let is_newest = index + 1 == messages.len();
        for block in blocks {
            if block.kind.as_deref() != Some("tool_result") {
                continue;
            }
            let call = block.tool_use_id.as_ref().and_then(|id| calls.get(id));
            if let Some(content) = block.content {
                push_content(body, content, is_newest, call, found);
            }
        }
    }
}

/// Chat Completions: `tool` messages; the trailing run of them is the newest turn.
fn chat<'a>(body: &'a [u8], messages: Vec<Message<'a>>, found: &mut Vec<ToolOutput<'a>>) {
    let is_tool = |message: &Message<'_>| message.role.as_deref() == Some("tool");
    let newest_from = messages.len()
        - messages
            .iter()
            .rev()
            .take_while(|message| is_tool(message))
            .count();
    let mut calls = Calls::new();
    for message in &messages {
        for call in message.tool_calls.iter().flatten() {
            if let (Some(id), Some(function)) = (&call.id, &call.function)
                && let Some(name) = &function.name
            {
                let input = function.arguments.clone().unwrap_or(Cow::Borrowed("{}"));
                calls.insert(
                    id.clone(),
                    Call {
                        name: name.clone(),
                        input,
                    },
                );
            }
        }
    }
    for (index, message) in messages.iter().enumerate() {
        if !is_tool(message) {
            continue;
        }
        let call = message.tool_call_id.as_ref().and_then(|id| calls.get(id));
        if let Some(content) = message.content {
            push_content(body, content, index >= newest_from, call, found);
        }
    }
}

/// Responses: `function_call_output` (and `custom_tool_call_output`) items; the trailing run of
/// them is the newest turn.
fn responses<'a>(body: &'a [u8], input: &'a RawValue, found: &mut Vec<ToolOutput<'a>>) {
    let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(input.get()) else {
        return;
    };
    let parsed: Vec<Option<Item<'_>>> = items
        .iter()
        .map(|raw| serde_json::from_str(raw.get()).ok())
        .collect();
    let is_output = |item: &Option<Item<'_>>| {
        item.as_ref().is_some_and(|i| {
            matches!(
                i.kind.as_deref(),
                Some("function_call_output" | "custom_tool_call_output")
            )
        })
    };
    let mut calls = Calls::new();
    for item in parsed.iter().flatten() {
        if matches!(
            item.kind.as_deref(),
            Some("function_call" | "custom_tool_call")
        ) && let (Some(id), Some(name)) = (&item.call_id, &item.name)
        {
            let input = item
                .arguments
                .clone()
                .or_else(|| item.input.clone())
                .unwrap_or(Cow::Borrowed("{}"));
            calls.insert(
                id.clone(),
                Call {
                    name: name.clone(),
                    input,
                },
            );
        }
    }
    let newest_from = parsed.len()
        - parsed
            .iter()
            .rev()
            .take_while(|item| is_output(item))
            .count();
    for (index, item) in parsed.iter().enumerate() {
        if !is_output(item) {
            continue;
        }
        let Some(item) = item else { continue };
        let call = item.call_id.as_ref().and_then(|id| calls.get(id));
        if let Some(output) = item.output.filter(|raw| raw.get().starts_with('"')) {
            push(body, output, index >= newest_from, call, found);
        }
    }
}

/// A tool output's content: one string, or text blocks (other blocks, such as images, stay).
fn push_content<'a>(
    body: &'a [u8],
    content: &'a RawValue,
    is_newest: bool,
    call: Option<&Call<'a>>,
    found: &mut Vec<ToolOutput<'a>>,
) {
    if content.get().starts_with('"') {
        push(body, content, is_newest, call, found);
        return;
    }
    for part in blocks(Some(content)) {
        if part.kind.as_deref() == Some("text")
            && let Some(text) = part.text
        {
            push(body, text, is_newest, call, found);
        }
    }
}

fn blocks(content: Option<&RawValue>) -> Vec<Block<'_>> {
    content
        .filter(|raw| raw.get().starts_with('['))
        .and_then(|raw| serde_json::from_str::<Vec<Block<'_>>>(raw.get()).ok())
        .unwrap_or_default()
}

fn push<'a>(
    body: &'a [u8],
    raw: &'a RawValue,
    is_newest: bool,
    call: Option<&Call<'a>>,
    found: &mut Vec<ToolOutput<'a>>,
) {
    let json = raw.get();
    if !json.starts_with('"') {
        return;
    }
    if let Some(span) = crate::body::span_in(body, raw) {
        found.push(ToolOutput {
            span,
            json,
            is_newest,
            call: call.cloned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(body: &str, family: Family) -> Vec<(String, bool)> {
        tool_outputs(body.as_bytes(), &crate::body::read(body.as_bytes()), family)
            .into_iter()
            .map(|output| {
                assert_eq!(&body[output.span.clone()], output.json);
                (output.text().unwrap(), output.is_newest)
            })
            .collect()
    }

    #[test]
    fn finds_anthropic_tool_results_and_marks_the_newest_turn() {
        let body = r#"{"model":"m","messages":[
            {"role":"user","content":"hi"},
            {"role":"assistant","content":[{"type":"tool_use","id":"a","name":"Bash","input":{}}]},
            {"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":"old \"output\""}]},
            {"role":"assistant","content":[{"type":"tool_use","id":"b","name":"Bash","input":{}}]},
            {"role":"user","content":[{"type":"tool_result","tool_use_id":"b","content":[{"type":"text","text":"new\nlines"},{"type":"image","source":{}}],"cache_control":{"type":"ephemeral"}},{"type":"text","text":"not a tool output"}]}
        ]}"#;
        assert_eq!(
            texts(body, Family::Anthropic),
            [
                ("old \"output\"".to_owned(), false),
                ("new\nlines".to_owned(), true)
            ]
        );
    }

    #[test]
    fn finds_openai_tool_outputs() {
        let responses = r#"{"model":"m","input":[{"type":"message","role":"user","content":"x"},
            {"type":"function_call","call_id":"1","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"1","output":"first"},
            {"type":"function_call","call_id":"2","name":"f","arguments":"{}"},{"type":"function_call","call_id":"3","name":"f","arguments":"{}"},
            {"type":"function_call_output","call_id":"2","output":"second"},{"type":"function_call_output","call_id":"3","output":"third"}]}"#;
        assert_eq!(
            texts(responses, Family::OpenAi),
            [
                ("first".to_owned(), false),
                ("second".to_owned(), true),
                ("third".to_owned(), true)
            ]
        );
        let chat = r#"{"model":"m","messages":[{"role":"tool","tool_call_id":"1","content":"a"},{"role":"assistant","content":null},{"role":"tool","tool_call_id":"2","content":[{"type":"text","text":"b"}]}]}"#;
        assert_eq!(
            texts(chat, Family::OpenAi),
            [("a".to_owned(), false), ("b".to_owned(), true)]
        );
    }

    #[test]
    fn each_output_comes_with_the_call_it_answers() {
        let calls = |body: &str, family| {
            tool_outputs(body.as_bytes(), &crate::body::read(body.as_bytes()), family)
                .into_iter()
                .map(|output| {
                    output
                        .call
                        .map(|call| (call.name.into_owned(), call.input.into_owned()))
                })
                .collect::<Vec<_>>()
        };
        let anthropic = r#"{"messages":[
            {"role":"assistant","content":[{"type":"tool_use","id":"a","name":"Read","input":{"file_path":"/r/x.rs"}},{"type":"tool_use","id":"b","name":"Bash","input":{"command":"ls"}}]},
            {"role":"user","content":[{"type":"tool_result","tool_use_id":"b","content":"x"},{"type":"tool_result","tool_use_id":"a","content":"y"},{"type":"tool_result","tool_use_id":"zz","content":"z"}]}]}"#;
        assert_eq!(
            calls(anthropic, Family::Anthropic),
            [
                Some(("Bash".to_owned(), r#"{"command":"ls"}"#.to_owned())),
                Some(("Read".to_owned(), r#"{"file_path":"/r/x.rs"}"#.to_owned())),
                None
            ]
        );
        let responses = r#"{"input":[{"type":"function_call","call_id":"1","name":"shell","arguments":"{\"command\":[\"cat\",\"a.rs\"]}"},{"type":"function_call_output","call_id":"1","output":"fn a() {}"},
            {"type":"custom_tool_call","call_id":"2","name":"apply_patch","input":"*** Begin Patch"},{"type":"custom_tool_call_output","call_id":"2","output":"Done"}]}"#;
        assert_eq!(
            calls(responses, Family::OpenAi),
            [
                Some((
                    "shell".to_owned(),
                    r#"{"command":["cat","a.rs"]}"#.to_owned()
                )),
                Some(("apply_patch".to_owned(), "*** Begin Patch".to_owned()))
            ]
        );
        let chat = r#"{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"read_file","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"text"}]}"#;
        assert_eq!(
            calls(chat, Family::OpenAi),
            [Some(("read_file".to_owned(), "{}".to_owned()))]
        );
    }

    #[test]
    fn strings_unescape_as_serde_json_reads_them() {
        for json in [
            r#""""#,
            r#""plain""#,
            r#""a\"b\\c\/d\b\f\n\r\t""#,
            r#""\u00e9\u2713 \ud83d\ude00 \u0000""#,
            r#""lone \ud83d""#,
            r#""lone \ude00""#,
            r#""pair cut \ud83d\u0041""#,
            r#""bad \x""#,
            r#""bad \u12g4""#,
            r#""end \""#,
            r#""quote " inside""#,
            "\"raw\ttab\"",
            "no quotes",
            r#""é ✓""#,
        ] {
            assert_eq!(
                unescape(json),
                serde_json::from_str::<String>(json).ok(),
                "{json}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_unescapes_as_serde_json_reads_it(
            text in "\\PC{0,40}",
            raw in r#"[\\"a-f0-9u/nrtbxDd\t]{0,30}"#,
        ) {
            let json = serde_json::to_string(&text).unwrap();
            proptest::prop_assert_eq!(unescape(&json), Some(text));
            let json = format!("\"{raw}\"");
            proptest::prop_assert_eq!(unescape(&json), serde_json::from_str::<String>(&json).ok());
        }
    }

    #[test]
    fn anything_else_yields_nothing() {
        for body in [
            "",
            "null",
            "[]",
            "{\"messages\":5}",
            "{\"messages\":[1,\"x\",null]}",
            "{\"input\":\"text\"}",
            "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"content\":7}]}]}",
        ] {
            assert!(
                tool_outputs(
                    body.as_bytes(),
                    &crate::body::read(body.as_bytes()),
                    Family::Anthropic
                )
                .is_empty(),
                "{body}"
            );
            assert!(
                tool_outputs(
                    body.as_bytes(),
                    &crate::body::read(body.as_bytes()),
                    Family::OpenAi
                )
                .is_empty(),
                "{body}"
            );
        }
    }
}
