//! Compression of what the agent sends: finds tool outputs in a request (`walk`), decides how far
//! each may be changed from the call it answers (`call`), picks the one kind that claims it on
//! evidence (`KINDS`, in order), and splices the results into the original bytes. Everything else
//! in the body stays byte for byte as the agent sent it. Text no kind claims, and every kind's
//! output first, gets only lossless rewrites; cutting is for kinds with a clear notion of what
//! matters (logs and test or build output, diffs and history, long JSON arrays, very long search
//! results), and a cut output's original is kept on disk, named in its marker.
//!
//! Prompt-cache rules (the reason for most of this room): only outputs in the request's newest turn
//! are compressed, since older ones are already in the provider's cache as they were sent. Once an
//! output is compressed, every later request that repeats it gets exactly the same bytes (the
//! sticky map below, per session), so the cached prefix stays identical from turn to turn. A result
//! is used only when it is clearly smaller in tokens.

mod call;
mod diff;
#[cfg(test)]
mod fidelity;
mod history;
pub mod json;
mod kept;
mod listing;
mod log;
pub mod originals;
mod repeats;
mod search;
mod table;
mod terminal;
mod walk;

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use std::ops::Range;

#[cfg(test)]
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use self::call::Leeway;
use self::kept::Kept;
use self::originals::{KeepOriginal, Original};
use crate::body::Read;
use crate::providers::Family;
use crate::usage::{Compression, PromptDelta};

/// Outputs shorter than this are never touched.
const MIN_BYTES: usize = 2048;
/// A result is used only when it has at least this share of the original's tokens fewer.
const MIN_SAVING_PERCENT: u64 = 20;

/// One kind of tool output: claims text on positive evidence, then rewrites it.
trait Kind: Sync {
    /// Its name in `--verbose` and the session summary.
    fn name(&self) -> &'static str;
    /// Whether `text` (split into `lines` at `\n`) is of this kind.
    fn claims(&self, text: &str, lines: &[&str]) -> bool;
    /// A shorter form: lossless where the kind can, lossy only when `original` (where the marker
    /// says the full output is) is given.
    fn compress(&self, text: &str, lines: &[&str], original: Option<&str>) -> Option<Kept>;
}

/// The kinds, most specific evidence first: the first that claims an output owns it, and no kind
/// is a fallback for another's refusal. Tables come before logs, so timestamped records stay whole.
static KINDS: [&dyn Kind; 7] = [
    &json::Json,
    &history::History,
    &diff::Diff,
    &search::Search,
    &table::Table,
    &log::Log,
    &listing::Listing,
];

/// The name under which outputs no kind claims, only folded where a line repeats, are counted.
const REPEATS: &str = "repeats";
/// The name under which outputs only cleaned of terminal sequences are counted.
const TERMINAL: &str = "terminal";
/// What the marker of cleaned terminal output counts.
const TERMINAL_UNIT: &str = "terminal sequences";

/// Tokens in `text`, with OpenAI's o200k tokenizer (see `crate::tokens`). For Claude and MiniMax
/// models this is an approximation: their tokenizers are not public, and what counts here is the
/// ratio before and after compression, which carries over.
pub fn count_tokens(text: &str) -> u64 {
    crate::tokens::count(text)
}

/// Whether `compressed_tokens` is at least `MIN_SAVING_PERCENT` fewer than `original` has.
///
/// Exact, yet it counts only as far as it must: a result worth using is far smaller than its
/// original, so the count stops once the original has passed the break-even point (a fifth to a
/// quarter of the way into a typical output). The full count, needed only for accounting, is made
/// later and off the request path (`Compressor::finish`).
fn saves_enough(original: &str, compressed_tokens: u64) -> bool {
    // Worth it iff compressed <= (100 - saving)% of the original, i.e. the original has at least
    // compressed * 100 / (100 - saving) tokens, rounded up.
    let break_even = compressed_tokens
        .saturating_mul(100)
        .div_ceil(100 - MIN_SAVING_PERCENT);
    crate::tokens::at_least(original, break_even)
}

/// One compressed output, as remembered for the session.
#[derive(Debug)]
struct Entry {
    /// The compressed text as a JSON string, ready to splice in each time it is replayed.
    json: String,
    tokens: u64,
    /// The kind that compressed it.
    kind: &'static str,
    original: Original,
}

impl Entry {
    fn tokens_removed(&self) -> u64 {
        self.original.tokens().saturating_sub(self.tokens)
    }
}

/// The outputs compression replaced in one request, and the agent's reads of originals in it.
/// Their texts may still be on their way to disk and uncounted: `Compressor::finish` does both,
/// and `delta` waits for (or makes) the counts.
#[derive(Debug, Default, Clone)]
pub struct Savings {
    /// Each compressed output, and whether it is new in this request (else a replay).
    outputs: Vec<(Arc<Entry>, bool)>,
    /// Each read of an original, and whether it is new in this request (else a replay).
    retrievals: Vec<(Arc<Original>, bool)>,
}

impl Savings {
    /// Whether compression neither replaced nor saw a read of an original.
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty() && self.retrievals.is_empty()
    }

    /// Whether an original is still to be written where a marker in this request points.
    pub fn writes_files(&self) -> bool {
        self.outputs.iter().any(|(entry, is_new)| {
            *is_new && entry.original.has_path() && !entry.original.is_counted()
        })
    }

    /// Whether some text is not counted yet.
    pub fn is_pending(&self) -> bool {
        self.outputs
            .iter()
            .any(|(entry, _)| !entry.original.is_counted())
            || self.retrievals.iter().any(|(read, _)| !read.is_counted())
    }

    /// One new output compressed to nothing, its original not counted yet; for tests of what
    /// consumes savings.
    #[cfg(test)]
    pub fn uncounted(original: &str) -> Savings {
        Savings {
            outputs: vec![(
                Arc::new(Entry {
                    json: String::new(),
                    tokens: 0,
                    kind: "log",
                    original: Original::new(original.to_owned(), None),
                }),
                true,
            )],
            retrievals: Vec::new(),
        }
    }

    /// Savings already counted, for tests of what consumes them.
    #[cfg(test)]
    pub fn counted(delta: PromptDelta) -> Savings {
        let entry = |tokens: u64, is_newest: bool| {
            (
                Arc::new(Entry {
                    json: String::new(),
                    tokens: 0,
                    kind: "log",
                    original: Original::counted(tokens),
                }),
                is_newest,
            )
        };
        Savings {
            outputs: vec![
                entry(delta.removed_newest, true),
                entry(delta.removed_earlier, false),
            ],
            retrievals: vec![
                (Arc::new(Original::counted(delta.added_newest)), true),
                (Arc::new(Original::counted(delta.added_earlier)), false),
            ],
        }
    }
}

impl Compression for Savings {
    fn delta(&self) -> PromptDelta {
        let mut delta = PromptDelta::default();
        for (entry, is_new) in &self.outputs {
            let removed = if *is_new {
                &mut delta.removed_newest
            } else {
                &mut delta.removed_earlier
            };
            *removed = removed.saturating_add(entry.tokens_removed());
        }
        for (read, is_new) in &self.retrievals {
            let added = if *is_new {
                &mut delta.added_newest
            } else {
                &mut delta.added_earlier
            };
            *added = added.saturating_add(read.tokens());
        }
        delta
    }

    fn retrievals(&self) -> u64 {
        self.retrievals.iter().filter(|(_, is_new)| *is_new).count() as u64
    }

    fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = self
            .outputs
            .iter()
            .filter(|(_, is_new)| *is_new)
            .map(|(entry, _)| entry.kind)
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    }
}

/// What compression does to one request: the edits to splice (with any others) into its body.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Each tool output's span in the body and the output's compressed form.
    replacements: Vec<(Range<usize>, Arc<Entry>)>,
    /// The tokens it removed (and the reads of originals it saw).
    pub savings: Savings,
}

impl Outcome {
    /// The edits: each span of the body and the JSON string that replaces it.
    pub fn edits(&self) -> impl Iterator<Item = (Range<usize>, &[u8])> {
        self.replacements
            .iter()
            .map(|(span, entry)| (span.clone(), entry.json.as_bytes()))
    }

    /// The body with the edits applied, or `None` when there are none (the proxy splices them
    /// together with its own; tests look at them alone).
    #[cfg(test)]
    pub fn apply(&self, body: &[u8]) -> Option<Bytes> {
        (!self.replacements.is_empty()).then(|| crate::body::splice(body, self.edits().collect()))
    }
}

/// Originals that could not be kept: how many, and the first error.
#[derive(Debug, Default)]
pub struct Unkept {
    pub count: u64,
    pub first_error: Option<String>,
}

/// What one kind of compression did over a session.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindTotals {
    /// New tool outputs it compressed (replays in later turns not counted again).
    pub outputs: u64,
    pub tokens_before: u64,
    pub tokens_after: u64,
    /// How many of them were cut (their originals kept on disk) rather than rewritten losslessly.
    pub lossy_outputs: u64,
}

/// The session's compressor, shared by all connections.
#[derive(Debug)]
pub struct Compressor {
    /// Hash of an original output → its compressed form, or `None` when it was not worth it.
    sticky: Mutex<HashMap<u64, Option<Arc<Entry>>>>,
    /// Hash of a read of an original → its text, to be counted.
    reads: Mutex<HashMap<u64, Arc<Original>>>,
    /// Where lossy results say the original is; `None` keeps no originals (lossless only).
    originals_dir: Option<PathBuf>,
}

impl Compressor {
    /// A compressor keeping originals of lossy results in `originals_dir`, which must exist;
    /// without it, only lossless rewrites are made.
    pub fn new(originals_dir: Option<PathBuf>) -> Self {
        Compressor {
            sticky: Mutex::new(HashMap::new()),
            reads: Mutex::new(HashMap::new()),
            originals_dir,
        }
    }

    /// Where lossy results keep their originals (the agent must be allowed to read there).
    pub fn originals_dir(&self) -> Option<&std::path::Path> {
        self.originals_dir.as_deref()
    }

    /// What compression does to `body` (read once by `crate::body::read`), or `None` when it
    /// neither changes anything nor sees a read of an original. The new outputs' originals are
    /// then waiting in the outcome's savings for `finish`.
    ///
    /// Writing an original is left out of the request path, as its full count is: creating a
    /// file costs from a few hundredths to over half a millisecond, depending on the disk, and the
    /// agent can only act on a marker once the model has answered, which takes far longer.
    pub fn compress<'a>(&self, body: &'a [u8], read: &Read<'a>, family: Family) -> Option<Outcome> {
        let outputs = walk::tool_outputs(body, read, family);
        if outputs.is_empty() {
            return None;
        }
        let mut outcome = Outcome::default();
        let mut sticky = self
            .sticky
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        for output in outputs {
            let leeway = call::leeway(output.call.as_ref());
            if output
                .call
                .as_ref()
                .is_some_and(|call| call::reads_original(&call.input))
            {
                self.note_read(&output, &mut outcome.savings);
            }
            // The escaped string is at least as long as the text: shorter ones are never worth it.
            if leeway == Leeway::None || output.json.len() < MIN_BYTES {
                continue;
            }
            // Keyed by the string as sent and by how far it may change: the agent writes the same
            // output the same way each turn, and older outputs need not be unescaped to be
            // recognized.
            let key = hash((output.json, leeway));
            // An output seen in an earlier request is a replay, read from the provider's cache,
            // wherever it sits: Claude Code puts every tool result of a run into its last message.
            let (entry, is_new) = match sticky.get(&key) {
                Some(entry) => (entry.clone(), false),
                // An output first seen in an older turn went to the provider uncompressed and is
                // cached that way: changing it now would break the cached prefix.
                None if !output.is_newest => continue,
                None => {
                    let entry = output
                        .text()
                        .filter(|text| text.len() >= MIN_BYTES)
                        .and_then(|text| self.compress_new(key, text, leeway));
                    sticky.insert(key, entry.clone());
                    (entry, true)
                }
            };
            let Some(entry) = entry else { continue };
            outcome.replacements.push((output.span, entry.clone()));
            outcome.savings.outputs.push((entry, is_new));
        }
        drop(sticky);
        (!outcome.savings.is_empty()).then_some(outcome)
    }

    /// Remembers a read of an original, so it is priced against the savings in this request and,
    /// replayed, in every later one.
    fn note_read(&self, output: &walk::ToolOutput<'_>, savings: &mut Savings) {
        let key = hash(output.json);
        let mut reads = self
            .reads
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let (read, is_new) = match reads.get(&key) {
            Some(read) => (read.clone(), false),
            None if !output.is_newest => return,
            None => {
                let read = Arc::new(Original::new(output.text().unwrap_or_default(), None));
                reads.insert(key, read.clone());
                (read, true)
            }
        };
        savings.retrievals.push((read, is_new));
    }

    /// Keeps and counts the texts of `savings` still waiting (for the background thread).
    pub fn finish(&self, savings: &Savings, keep: KeepOriginal<'_>) {
        for (entry, _) in &savings.outputs {
            entry.original.finish(keep);
        }
        for (read, _) in &savings.retrievals {
            read.finish(keep);
        }
    }

    /// Keeps and counts every original still waiting, at the end of the session (a request
    /// whose `finish` never ran), and says which of the session's could not be kept.
    pub fn finish_all(&self, keep: KeepOriginal<'_>) -> Unkept {
        let mut unkept = Unkept::default();
        for entry in self.entries() {
            if let Some(error) = entry.original.finish(keep) {
                unkept.count += 1;
                unkept.first_error.get_or_insert_with(|| error.to_owned());
            }
        }
        unkept
    }

    /// What each kind did this session, by kind name; call after `finish_all`.
    pub fn kinds(&self) -> BTreeMap<String, KindTotals> {
        let mut kinds: BTreeMap<String, KindTotals> = BTreeMap::new();
        for entry in self.entries() {
            let totals = kinds.entry(entry.kind.to_owned()).or_default();
            totals.outputs += 1;
            totals.tokens_before = totals.tokens_before.saturating_add(entry.original.tokens());
            totals.tokens_after = totals.tokens_after.saturating_add(entry.tokens);
            totals.lossy_outputs += u64::from(entry.original.has_path());
        }
        kinds
    }

    fn entries(&self) -> Vec<Arc<Entry>> {
        self.sticky
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .values()
            .flatten()
            .cloned()
            .collect()
    }

    /// The session's entry for a new output, if compressing it saves enough.
    fn compress_new(&self, key: u64, text: String, leeway: Leeway) -> Option<Arc<Entry>> {
        let path = self
            .originals_dir
            .as_ref()
            .filter(|_| leeway == Leeway::Any)
            .map(|dir| dir.join(format!("{key:016x}.txt")));
        let (kept, tokens, kind) = compress_one(&text, path.as_ref())?;
        // Only a lossy result names a file to keep.
        let path = path.filter(|_| kept.lossy);
        Some(Arc::new(Entry {
            json: serde_json::Value::from(kept.text).to_string(),
            tokens,
            kind,
            original: Original::new(text, path),
        }))
    }
}

/// The compressed form of one new output, its tokens and the kind that made it, if it saves
/// enough. Lossy results only where `original` names a file to keep the text in.
fn compress_one(text: &str, original: Option<&PathBuf>) -> Option<(Kept, u64, &'static str)> {
    // A compressed output compressed again changes nothing (the agent may paste one back).
    if kept::is_compressed(text) {
        return None;
    }
    let original = original.map(|path| path.display().to_string());
    // What a terminal would not show goes first, where outputs may be cut (it is lossy); the kinds
    // then read the text as it would look on screen.
    let cleaned = original.as_ref().and_then(|_| terminal::clean(text));
    let shown = cleaned.as_ref().map_or(text, |(shown, _)| shown.as_str());
    let lines: Vec<&str> = shown.split('\n').collect();
    let claimed = KINDS
        .iter()
        .find(|kind| kind.claims(shown, &lines))
        .and_then(|kind| {
            Some((
                kind.compress(shown, &lines, original.as_deref())?,
                kind.name(),
            ))
        });
    let (kept, kind) = claimed
        .or_else(|| Some((repeats::compress(&lines)?, REPEATS)))
        .or_else(|| {
            Some((Kept::lossless(shown.to_owned()), TERMINAL)).filter(|_| cleaned.is_some())
        })?;
    let kept = match (&cleaned, &original) {
        (Some((_, removed)), Some(original)) => Kept {
            text: format!(
                "{}\n{}",
                kept::marker(
                    *removed,
                    TERMINAL_UNIT,
                    "colours, cursor moves and the earlier states of redrawn lines",
                    original
                ),
                kept.text
            ),
            lossy: true,
        },
        _ => kept,
    };
    // A result no shorter in bytes is not worth counting: markers do not make text denser.
    if (kept.lossy && original.is_none()) || kept.text.len() >= text.len() {
        return None;
    }
    let kept = Kept {
        text: name_original_once(&kept.text, original.as_deref().unwrap_or_default()),
        ..kept
    };
    let tokens = count_tokens(&kept.text);
    saves_enough(text, tokens).then_some((kept, tokens, kind))
}

/// Keeps the path in the first marker only: later markers point at the same file, and repeating
/// a long path in every marker of a many-hunk diff would eat much of the saving.
fn name_original_once(text: &str, original: &str) -> String {
    if original.is_empty() {
        return text.to_owned();
    }
    let named = format!("{}{original} ...]", kept::FULL_OUTPUT);
    match text.find(&named) {
        Some(first) => {
            let after = first + named.len();
            format!(
                "{}{}",
                &text[..after],
                text[after..].replace(&named, "; same file ...]")
            )
        }
        None => text.to_owned(),
    }
}

fn hash(value: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// Compresses `body` the way the proxy does: one read, then the edits applied.
    fn forward(
        compressor: &Compressor,
        body: &[u8],
        family: Family,
    ) -> Option<(Option<Bytes>, Outcome)> {
        let outcome = compressor.compress(body, &crate::body::read(body), family)?;
        Some((outcome.apply(body), outcome))
    }

    fn build_log(seed: usize) -> String {
        let mut lines: Vec<String> = (0..400)
            .map(|i| format!("2026-11-20T10:{:02}:{:02}.000Z INFO [{seed}] step {i}: processing item {i} of 400 ... done", i / 60, i % 60))
            .collect();
        lines[123] = format!(
            "2026-11-20T10:02:03.000Z ERROR [{seed}] connection refused to db-{seed}.internal:5432"
        );
        lines.join("\n")
    }

    /// A Claude-Code-shaped session: each turn appends an assistant tool call and a user message
    /// with the tool's result (marked for caching), like the real client does.
    fn turns(count: usize) -> Vec<Vec<u8>> {
        let mut messages = vec![json!({"role": "user", "content": "fix the build"})];
        let mut bodies = Vec::new();
        for turn in 0..count {
            messages.push(json!({"role": "assistant", "content": [{"type": "tool_use", "id": format!("t{turn}"), "name": "Bash", "input": {"command": "make"}}]}));
            messages.push(json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": format!("t{turn}"), "content": build_log(turn), "cache_control": {"type": "ephemeral"}}]}));
            // The real client moves the cache marker to the newest block.
            let mut sent = messages.clone();
            for message in &mut sent[..messages.len() - 1] {
                if let Some(blocks) = message["content"].as_array_mut() {
                    for block in blocks {
                        block.as_object_mut().unwrap().remove("cache_control");
                    }
                }
            }
            bodies.push(
                serde_json::to_vec(
                    &json!({"model": "claude-opus-5-5", "max_tokens": 100, "messages": sent}),
                )
                .unwrap(),
            );
        }
        bodies
    }

    /// The text of the first block of message `index` in a forwarded body.
    fn forwarded_output(body: &[u8], index: usize) -> String {
        let body: Value = serde_json::from_slice(body).unwrap();
        body["messages"][index]["content"][0]["content"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn each_turn_forwards_the_previous_turns_bytes_as_its_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let compressor = Compressor::new(Some(dir.path().to_owned()));
        let forwarded: Vec<Vec<u8>> = turns(6)
            .iter()
            .map(|body| {
                forward(&compressor, body, Family::Anthropic)
                    .and_then(|(body, _)| body.map(|b| b.to_vec()))
                    .unwrap_or_else(|| body.clone())
            })
            .collect();
        for pair in forwarded.windows(2) {
            let (earlier, later) = (&pair[0], &pair[1]);
            let earlier_json: Value = serde_json::from_slice(earlier).unwrap();
            let later_json: Value = serde_json::from_slice(later).unwrap();
            let shared = earlier_json["messages"].as_array().unwrap().len() - 1;
            // Everything before the newest block (which moves its cache marker) is byte-identical.
            for i in 0..shared {
                assert_eq!(
                    earlier_json["messages"][i], later_json["messages"][i],
                    "message {i} changed between turns"
                );
            }
            let newest_content = &earlier_json["messages"][shared]["content"][0]["content"];
            assert_eq!(
                newest_content,
                &later_json["messages"][shared]["content"][0]["content"]
            );
            let prefix_end = earlier
                .windows(12)
                .position(|w| w == b"\"cache_contr")
                .unwrap();
            assert_eq!(
                &earlier[..prefix_end],
                &later[..prefix_end],
                "the cached prefix must not change"
            );
        }
        let last: Value = serde_json::from_slice(forwarded.last().unwrap()).unwrap();
        let text = last["messages"][2]["content"][0]["content"]
            .as_str()
            .unwrap();
        assert!(
            text.contains("connection refused to db-0.internal:5432"),
            "{text}"
        );
        assert!(text.contains("lines omitted"));
        assert!(
            last["messages"][12]["content"][0]["cache_control"].is_object(),
            "cache markers stay where the agent put them"
        );
    }

    #[test]
    fn finishing_keeps_each_new_original_once_where_its_marker_points() {
        let dir = tempfile::tempdir().unwrap();
        let compressor = Compressor::new(Some(dir.path().to_owned()));
        let kept = Mutex::new(Vec::new());
        let keep = |path: &std::path::Path, text: &str| {
            kept.lock()
                .unwrap()
                .push((path.to_owned(), text.to_owned()));
            Ok(())
        };
        let (body, outcome) = forward(&compressor, &turns(1)[0], Family::Anthropic).unwrap();
        assert!(outcome.savings.is_pending());
        assert!(
            kept.lock().unwrap().is_empty(),
            "nothing written on the request path"
        );
        compressor.finish(&outcome.savings, &keep);
        assert!(!outcome.savings.is_pending());
        let (path, original) = kept.lock().unwrap()[0].clone();
        assert_eq!(original, build_log(0));
        let body = body.unwrap();
        let forwarded = String::from_utf8(body.to_vec()).unwrap();
        assert!(forwarded.contains(&path.display().to_string()));
        let PromptDelta {
            removed_newest: newest,
            removed_earlier: earlier,
            ..
        } = outcome.savings.delta();
        assert_eq!(
            newest,
            count_tokens(&build_log(0)) - count_tokens(&forwarded_output(&body, 2))
        );
        assert!(newest > 1000, "{newest}");
        assert_eq!(earlier, 0);
        // The same output in a later turn is replayed, not kept again; the session's end keeps
        // what no request finished.
        let (_, again) = forward(&compressor, &turns(2)[1], Family::Anthropic).unwrap();
        assert!(again.savings.is_pending(), "the new turn's output");
        assert_eq!(compressor.finish_all(&keep).count, 0);
        assert_eq!(kept.lock().unwrap().len(), 2);
        assert!(!again.savings.is_pending());
        assert_eq!(again.savings.delta().removed_earlier, newest);
    }

    #[test]
    fn a_count_asked_for_early_leaves_the_original_to_be_kept() {
        let compressor = Compressor::new(Some(std::env::temp_dir()));
        let (_, outcome) = forward(&compressor, &turns(1)[0], Family::Anthropic).unwrap();
        let removed = outcome.savings.delta();
        assert!(removed.removed_newest > 1000);
        let failed = |_: &std::path::Path, _: &str| anyhow::bail!("disk full");
        let unkept = compressor.finish_all(&failed);
        assert_eq!(unkept.count, 1, "the original was still there to keep");
        assert_eq!(unkept.first_error.as_deref(), Some("disk full"));
        assert!(!outcome.savings.is_pending());
        assert_eq!(outcome.savings.delta(), removed);
        assert_eq!(
            compressor.finish_all(&failed).count,
            1,
            "a failure is remembered, not retried"
        );
    }

    #[test]
    fn without_a_place_for_originals_only_lossless_results_are_used() {
        let compressor = Compressor::new(None);
        assert!(forward(&compressor, &turns(1)[0], Family::Anthropic).is_none());
        let table: Vec<Value> = (0..200)
            .map(|i| json!({"name": format!("pkg-{i}"), "version": "1.0.0"}))
            .collect();
        let body = json!({"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "x", "content": serde_json::to_string_pretty(&table).unwrap()}]}]});
        let (forwarded_body, outcome) = forward(
            &compressor,
            &serde_json::to_vec(&body).unwrap(),
            Family::Anthropic,
        )
        .unwrap();
        compressor.finish(&outcome.savings, &|_, _| {
            panic!("lossless needs no original")
        });
        let forwarded: Value = serde_json::from_slice(&forwarded_body.unwrap()).unwrap();
        assert!(
            forwarded["messages"][0]["content"][0]["content"]
                .as_str()
                .unwrap()
                .contains("\"pkg-199\"")
        );
    }

    #[test]
    fn older_outputs_never_seen_compressed_are_left_alone() {
        let compressor = Compressor::new(Some(std::env::temp_dir()));
        // Turn 3 arrives first (e.g. a resumed session): its older outputs are cached upstream as sent.
        let body = &turns(3)[2];
        let (forwarded, _) = forward(&compressor, body, Family::Anthropic).unwrap();
        let forwarded: Value = serde_json::from_slice(&forwarded.unwrap()).unwrap();
        let original: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(forwarded["messages"][2], original["messages"][2]);
        assert_eq!(forwarded["messages"][4], original["messages"][4]);
        assert_ne!(forwarded["messages"][6], original["messages"][6]);
    }

    /// Every fact an agent needs from the real outputs in tests/corpus (see .ci/make-corpus)
    /// survives compression verbatim, and every output is actually compressed.
    #[test]
    fn corpus_facts_survive_compression() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
        let facts: std::collections::BTreeMap<String, Vec<String>> =
            serde_json::from_str(&std::fs::read_to_string(corpus.join("facts.json")).unwrap())
                .unwrap();
        assert_eq!(facts.len(), 8);
        let mut uncompressed = Vec::new();
        for (file, facts) in facts {
            let text = std::fs::read_to_string(corpus.join(&file)).unwrap();
            let original = PathBuf::from("/originals/x.txt");
            let Some((kept, tokens, _)) = compress_one(&text, Some(&original)) else {
                uncompressed.push(file);
                continue;
            };
            for fact in &facts {
                assert!(
                    text.contains(fact.as_str()),
                    "{file}: fact {fact:?} is not in the original"
                );
                assert!(
                    kept.text.contains(fact.as_str()),
                    "{file}: fact {fact:?} lost:\n{}",
                    kept.text
                );
            }
            assert_eq!(
                kept.lossy,
                kept.text.contains("full output: /originals/x.txt"),
                "{file}: lossy results name the original"
            );
            assert_eq!(tokens, count_tokens(&kept.text));
            assert!(tokens * 5 <= count_tokens(&text) * 4, "{file}: saves 20%");
        }
        // Diffs of dense changes (most lines are + or -) have little to drop: they go whole, as does
        // a listing, where any entry may be the one the agent wants.
        assert_eq!(uncompressed, ["diff.txt", "git_log.txt", "ls.txt"]);
    }

    #[test]
    fn the_early_stopping_decision_matches_a_full_count() {
        let log = build_log(7);
        for original in ["", "ok", "a few words of plain text, once", log.as_str()] {
            let full = count_tokens(original);
            let largest_worth_it = full * 4 / 5;
            for compressed in [0, 1, full, full + 1]
                .into_iter()
                .chain(largest_worth_it.saturating_sub(2)..largest_worth_it + 3)
            {
                assert_eq!(
                    saves_enough(original, compressed),
                    compressed * 5 <= full * 4,
                    "{compressed} of {full} tokens"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic_and_json_stays_json(text in ".{0,3000}", lines in 0usize..300, newest in proptest::bool::ANY) {
            let compressor = Compressor::new(Some(std::env::temp_dir()));
            let content = format!("{text}\n{}", "x: y\n".repeat(lines));
            let role = if newest { "user" } else { "assistant" };
            let body = serde_json::to_vec(&json!({"messages": [{"role": role, "content": [{"type": "tool_result", "content": content}]}]})).unwrap();
            for family in [Family::Anthropic, Family::OpenAi] {
                if let Some((forwarded, _)) = forward(&compressor, &body, family) {
                    proptest::prop_assert!(forwarded.as_ref().is_none_or(|body| serde_json::from_slice::<Value>(body).is_ok()));
                }
                let _ = forward(&compressor, text.as_bytes(), family);
            }
        }
    }
}
