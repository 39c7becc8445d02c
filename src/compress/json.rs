//! Pure: JSON output. Lossless first: an array of objects with the same keys and plain values
//! becomes a table (one header, one line per item, values still in JSON). Only when that is not
//! possible or not enough, a long array keeps its first and last items and every item that looks
//! like an error, and says how many it left out.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;
use serde_json::value::RawValue;

use super::log::Signals;
use super::{Kept, marker};

const MIN_ITEMS: usize = 8;
const LOSSY_MIN_ITEMS: usize = 40;
const HEAD_ITEMS: usize = 10;
const TAIL_ITEMS: usize = 5;
const MAX_FLAGGED: usize = 20;

/// An object's fields, in key order (as `serde_json::Value` keeps them), values still raw: only
/// the few values that are written out get parsed, which saves most of the time on large outputs.
type Fields<'a> = BTreeMap<Cow<'a, str>, &'a RawValue>;

/// The compressed JSON, or `None` when it is not JSON or not an array worth compressing.
pub fn compress(text: &str, original: &str) -> Option<Kept> {
    let trimmed = text.trim();
    let (label, items, envelope) = if trimmed.starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(trimmed).ok()?;
        ("array".to_owned(), items, String::new())
    } else if trimmed.starts_with('{') {
        // An envelope such as {"items": [...], "total": 3}: the largest array field is compressed
        // and the other fields are kept as they are.
        let fields: Fields<'_> = serde_json::from_str(trimmed).ok()?;
        let (name, items) = fields
            .iter()
            .filter_map(|(name, value)| Some((name, array(value)?)))
            .max_by_key(|(_, items)| items.len())?;
        let rest = fields
            .iter()
            .filter(|(key, _)| *key != name)
            .map(|(key, value)| Some((key.to_string(), compact(value)?)))
            .collect::<Option<serde_json::Map<String, Value>>>()?;
        let envelope = if rest.is_empty() {
            String::new()
        } else {
            format!("{}\n", Value::Object(rest))
        };
        (format!("field {name:?}"), items, envelope)
    } else {
        return None;
    };
    if items.len() < MIN_ITEMS {
        return None;
    }
    if let Some(table) = table(&items) {
        let text = format!(
            "{envelope}[{label}: {} objects as a table; each line holds the values of the columns in JSON]\n{table}",
            items.len()
        );
        return Some(Kept { text, lossy: false });
    }
    if items.len() < LOSSY_MIN_ITEMS {
        return None;
    }
    // An item's keys and strings as written (an escape inside a signal word is too rare to parse
    // every item for), searched in one lowered copy of the whole text.
    let signals = Signals::new(trimmed);
    let flagged: Vec<usize> = (HEAD_ITEMS..items.len() - TAIL_ITEMS)
        .filter(|&i| {
            // Items borrow from `trimmed`, so their addresses give their offsets.
            let item = items[i].get();
            match (item.as_ptr() as usize).checked_sub(trimmed.as_ptr() as usize) {
                Some(start) => signals.find(start..start + item.len()).is_some(),
                None => super::log::is_important(item),
            }
        })
        .take(MAX_FLAGGED)
        .collect();
    let mut out = format!(
        "{envelope}[{label}: {} items; kept the first {HEAD_ITEMS}, the last {TAIL_ITEMS} and {} that mention errors or warnings]\n",
        items.len(),
        flagged.len()
    );
    let mut previous = None;
    let kept: Vec<usize> = (0..HEAD_ITEMS)
        .chain(flagged)
        .chain(items.len() - TAIL_ITEMS..items.len())
        .collect();
    for i in kept {
        let gap = previous.map_or(i, |p: usize| i - p - 1);
        if gap > 0 {
            out.push_str(&marker(gap, "items", "see the count above", original));
            out.push('\n');
        }
        out.push_str(&compact(items[i])?.to_string());
        out.push('\n');
        previous = Some(i);
    }
    Some(Kept {
        text: out,
        lossy: true,
    })
}

/// The items of a raw JSON array.
fn array(raw: &RawValue) -> Option<Vec<&RawValue>> {
    if !raw.get().starts_with('[') {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// A raw value parsed, to be written out without the agent's whitespace.
fn compact(raw: &RawValue) -> Option<Value> {
    serde_json::from_str(raw.get()).ok()
}

/// A table when every item is an object with the same keys and scalar values. Cells are the
/// values as written (compact already: a scalar holds no whitespace of its own).
fn table(items: &[&RawValue]) -> Option<String> {
    fn fields(item: &RawValue) -> Option<Fields<'_>> {
        let raw = item.get();
        raw.starts_with('{')
            .then(|| serde_json::from_str(raw).ok())
            .flatten()
    }
    let first = fields(items.first()?)?;
    let columns: Vec<&str> = first.keys().map(|key| key.as_ref()).collect();
    let mut out = columns.join(" | ");
    out.push('\n');
    for item in items {
        let object = fields(item)?;
        if object.len() != columns.len() {
            return None;
        }
        for (i, column) in columns.iter().enumerate() {
            let value = object.get(*column)?.get();
            if value.starts_with(['{', '[']) {
                return None;
            }
            if i > 0 {
                out.push_str(" | ");
            }
            out.push_str(value);
        }
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_objects_become_a_lossless_table() {
        let items: Vec<Value> = (0..50)
            .map(|i| serde_json::json!({"name": format!("pkg-{i}"), "version": format!("1.{i}.0"), "deprecated": i == 7}))
            .collect();
        let text = serde_json::to_string_pretty(&items).unwrap();
        let kept = compress(&text, "").unwrap();
        assert!(!kept.lossy);
        assert!(
            kept.text.contains("\"pkg-7\"")
                && kept.text.contains("\"1.7.0\"")
                && kept.text.contains("true")
        );
        assert!(
            kept.text.contains("\"pkg-49\" | \"1.49.0\"")
                || kept.text.contains("\"1.49.0\" | \"pkg-49\"")
        );
        assert!(kept.text.len() < text.len() / 2);
    }

    #[test]
    fn mixed_arrays_keep_ends_and_errors() {
        let mut items: Vec<Value> = (0..100)
            .map(|i| serde_json::json!({"id": i, "status": "ok", "tags": ["a"]}))
            .collect();
        items[60] = serde_json::json!({"id": 60, "status": "error", "message": "disk quota exceeded", "tags": []});
        let text = serde_json::json!({"total": 100, "results": items}).to_string();
        let kept = compress(&text, "/tmp/j.txt").unwrap();
        assert!(kept.lossy);
        for fact in [
            "\"total\":100",
            "disk quota exceeded",
            "\"id\":0",
            "\"id\":99",
            "items omitted",
            "/tmp/j.txt",
        ] {
            assert!(kept.text.contains(fact), "{fact} lost:\n{}", kept.text);
        }
    }

    #[test]
    fn small_or_non_json_is_left_alone() {
        assert!(compress("[1,2,3]", "").is_none());
        assert!(compress("not json [", "").is_none());
        assert!(compress("{\"a\": 1}", "").is_none());
    }
}
