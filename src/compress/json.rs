//! Pure: JSON output. Lossless first: an array of objects with the same keys and plain values
//! becomes a table (one header, one line per item, values still in JSON). Only when that is not
//! possible or not enough, a long array keeps its first and last items and every item that looks
//! like an error, and says how many it left out.

use serde_json::Value;

use super::{Kept, marker};

const MIN_ITEMS: usize = 8;
const LOSSY_MIN_ITEMS: usize = 40;
const HEAD_ITEMS: usize = 10;
const TAIL_ITEMS: usize = 5;
const MAX_FLAGGED: usize = 20;

/// The compressed JSON, or `None` when it is not JSON or not an array worth compressing.
pub fn compress(text: &str, original: &str) -> Option<Kept> {
    let trimmed = text.trim();
    if !(trimmed.starts_with('[') || trimmed.starts_with('{')) {
        return None;
    }
    let value: Value = serde_json::from_str(trimmed).ok()?;
    let (label, items, envelope) = match &value {
        Value::Array(items) => ("array".to_owned(), items, String::new()),
        // An envelope such as {"items": [...], "total": 3}: the largest array field is compressed
        // and the other fields are kept as they are.
        Value::Object(fields) => {
            let (name, items) = fields
                .iter()
                .filter_map(|(name, value)| value.as_array().map(|items| (name, items)))
                .max_by_key(|(_, items)| items.len())?;
            let rest: serde_json::Map<String, Value> = fields
                .iter()
                .filter(|(key, _)| *key != name)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let envelope = if rest.is_empty() {
                String::new()
            } else {
                format!("{}\n", Value::Object(rest))
            };
            (format!("field {name:?}"), items, envelope)
        }
        _ => return None,
    };
    if items.len() < MIN_ITEMS {
        return None;
    }
    if let Some(table) = table(items) {
        let text = format!(
            "{envelope}[{label}: {} objects as a table; each line holds the values of the columns in JSON]\n{table}",
            items.len()
        );
        return Some(Kept { text, lossy: false });
    }
    if items.len() < LOSSY_MIN_ITEMS {
        return None;
    }
    let flagged: Vec<usize> = (HEAD_ITEMS..items.len() - TAIL_ITEMS)
        .filter(|&i| mentions_a_problem(&items[i]))
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
        out.push_str(&items[i].to_string());
        out.push('\n');
        previous = Some(i);
    }
    Some(Kept {
        text: out,
        lossy: true,
    })
}

/// Whether any key or string in `value` looks like an error or warning (`log::is_important`);
/// the same test as on the item's text, without writing the text out.
fn mentions_a_problem(value: &Value) -> bool {
    match value {
        Value::String(text) => super::log::is_important(text),
        Value::Array(items) => items.iter().any(mentions_a_problem),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| super::log::is_important(key) || mentions_a_problem(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A table when every item is an object with the same keys and scalar values.
fn table(items: &[Value]) -> Option<String> {
    let first = items.first()?.as_object()?;
    let columns: Vec<&String> = first.keys().collect();
    let mut out = columns
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(" | ");
    out.push('\n');
    for item in items {
        let object = item.as_object()?;
        if object.len() != columns.len() {
            return None;
        }
        let mut cells = Vec::with_capacity(columns.len());
        for column in &columns {
            let value = object.get(*column)?;
            if value.is_object() || value.is_array() {
                return None;
            }
            cells.push(value.to_string());
        }
        out.push_str(&cells.join(" | "));
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
