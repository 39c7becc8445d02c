//! Pure: JSON output. Lossless first, keeping every key and value with its exact text, in order:
//! an array of objects (at the top or in one field of the top object) becomes a table, one header
//! and one line of values per object; anything else loses only its whitespace. Only when that saves
//! too little does a long array keep its first and last items, every item that mentions an error
//! or warning, and every item that stands out (a rare value of a field that takes few values, or a
//! set of keys the others lack), and say how many it left out.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::Kind;
use super::kept::{Kept, is_important, marker, note};

const MIN_ITEMS: usize = 8;
const LOSSY_MIN_ITEMS: usize = 20;
const HEAD_ITEMS: usize = 10;
const TAIL_ITEMS: usize = 5;
/// At most this many items in the middle are kept for standing out.
const MAX_FLAGGED: usize = 60;
/// A lossless rewrite that keeps more than this share of the bytes is not enough on its own.
const LOSSLESS_ENOUGH_PERCENT: usize = 70;

pub struct Json;

impl Kind for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn claims(&self, text: &str, _lines: &[&str]) -> bool {
        let trimmed = text.trim();
        (trimmed.starts_with('[') || trimmed.starts_with('{'))
            && serde_json::from_str::<&RawValue>(trimmed).is_ok()
    }

    fn compress(&self, text: &str, _lines: &[&str], original: Option<&str>) -> Option<Kept> {
        let trimmed = text.trim();
        let array = Array::find(trimmed);
        let lossless = match &array {
            Some(array) => array.table(),
            None => None,
        }
        .or_else(|| Some(minify(trimmed)).filter(|minified| minified.len() < trimmed.len()));
        let enough = |kept: &String| kept.len() * 100 <= text.len() * LOSSLESS_ENOUGH_PERCENT;
        match (lossless, array, original) {
            (Some(lossless), _, _) if enough(&lossless) => Some(Kept::lossless(lossless)),
            (lossless, Some(array), Some(original)) if array.items.len() >= LOSSY_MIN_ITEMS => {
                array.cut(original).or(lossless.map(Kept::lossless))
            }
            (lossless, _, _) => lossless.map(Kept::lossless),
        }
    }
}

/// An object's fields in the order written, values still raw: only the values written out get
/// looked at further, which saves most of the time on large outputs.
struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    fields.push(entry);
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(FieldsVisitor)
    }
}

fn fields(raw: &RawValue) -> Option<Fields<'_>> {
    raw.get()
        .starts_with('{')
        .then(|| serde_json::from_str(raw.get()).ok())
        .flatten()
}

/// The array worth compressing in a JSON text: the text itself, or the largest array field of the
/// top object (`{"items": [...], "total": 3}`), with the other fields kept as they are.
struct Array<'a> {
    /// `array` or `field "items"`.
    label: String,
    items: Vec<&'a RawValue>,
    /// The top object with the array's value replaced by `PLACEHOLDER`, minified; empty when the
    /// array is the whole text.
    envelope: String,
}

const PLACEHOLDER: &str = "\"<the array below>\"";

impl<'a> Array<'a> {
    fn find(trimmed: &'a str) -> Option<Array<'a>> {
        if trimmed.starts_with('[') {
            let items: Vec<&RawValue> = serde_json::from_str(trimmed).ok()?;
            return (items.len() >= MIN_ITEMS).then(|| Array {
                label: "array".to_owned(),
                items,
                envelope: String::new(),
            });
        }
        let top: Fields<'_> = serde_json::from_str(trimmed).ok()?;
        let (index, items) = top
            .0
            .iter()
            .enumerate()
            .filter(|(_, (_, value))| value.get().starts_with('['))
            .filter_map(|(i, (_, value))| {
                Some((i, serde_json::from_str::<Vec<&RawValue>>(value.get()).ok()?))
            })
            .max_by_key(|(_, items)| items.len())?;
        if items.len() < MIN_ITEMS {
            return None;
        }
        let mut envelope = String::from("{");
        for (i, (key, value)) in top.0.iter().enumerate() {
            if i > 0 {
                envelope.push(',');
            }
            envelope.push_str(&serde_json::Value::from(key.as_ref()).to_string());
            envelope.push(':');
            if i == index {
                envelope.push_str(PLACEHOLDER);
            } else {
                envelope.push_str(&minify(value.get()));
            }
        }
        envelope.push('}');
        Some(Array {
            label: format!("field {:?}", top.0[index].0),
            items,
            envelope,
        })
    }

    fn head(&self) -> String {
        if self.envelope.is_empty() {
            String::new()
        } else {
            format!("{}\n", self.envelope)
        }
    }

    /// One header of keys and one line of values per object with those keys in that order; an
    /// item of another shape is written whole on its line.
    fn table(&self) -> Option<String> {
        let first = fields(self.items.first()?)?;
        let columns: Vec<&str> = first.0.iter().map(|(key, _)| key.as_ref()).collect();
        let mut rows = String::new();
        let mut whole = 0;
        for item in &self.items {
            match fields(item).filter(|object| {
                object.0.len() == columns.len()
                    && object
                        .0
                        .iter()
                        .zip(&columns)
                        .all(|((key, _), column)| key == column)
            }) {
                Some(object) => {
                    for (i, (_, value)) in object.0.iter().enumerate() {
                        if i > 0 {
                            rows.push_str(" | ");
                        }
                        rows.push_str(&minify(value.get()));
                    }
                }
                None => {
                    whole += 1;
                    rows.push_str(&minify(item.get()));
                }
            }
            rows.push('\n');
        }
        // A table of mostly other shapes reads worse than the JSON itself.
        if whole * 4 > self.items.len() {
            return None;
        }
        rows.pop();
        let header: Vec<String> = columns
            .iter()
            .map(|column| serde_json::Value::from(*column).to_string())
            .collect();
        let envelope = if self.envelope.is_empty() {
            String::new()
        } else {
            format!(" (the rest of the object is on the line above, {PLACEHOLDER} standing for it)")
        };
        Some(format!(
            "{}{}\n{}\n{rows}",
            self.head(),
            note(&format!(
                "{}{envelope}: {} objects as a table; the next line names the keys, and each line after it holds one object's values in JSON, in that order, separated by \" | \"; a line starting with {{ is an object written whole",
                self.label,
                self.items.len()
            )),
            header.join(" | ")
        ))
    }

    /// The first and last items and every item that mentions an error or stands out.
    fn cut(&self, original: &str) -> Option<Kept> {
        let count = self.items.len();
        let middle = HEAD_ITEMS..count - TAIL_ITEMS;
        let rare = rare_items(&self.items);
        let mut flagged: Vec<usize> = middle
            .clone()
            .filter(|&i| rare[i] || is_important(self.items[i].get()))
            .collect();
        let unflagged = flagged.len().saturating_sub(MAX_FLAGGED);
        flagged.truncate(MAX_FLAGGED);
        let kept: Vec<usize> = (0..HEAD_ITEMS)
            .chain(flagged.iter().copied())
            .chain(middle.end..count)
            .collect();
        let omitted = count - kept.len();
        if omitted * 3 < count {
            return None;
        }
        let standing_out = if unflagged == 0 {
            "every item that mentions an error or warning or has a rare value or key".to_owned()
        } else {
            format!(
                "the first {MAX_FLAGGED} items that mention an error or warning or have a rare value or key ({unflagged} more such items omitted)"
            )
        };
        let mut out = format!(
            "{}[{}: {count} items; kept the first {HEAD_ITEMS}, the last {TAIL_ITEMS} and {standing_out}]\n",
            self.head(),
            self.label,
        );
        let mut previous: Option<usize> = None;
        for i in kept {
            let gap = previous.map_or(i, |p| i - p - 1);
            if gap > 0 {
                out.push_str(&marker(gap, "items", "see the line at the top", original));
                out.push('\n');
            }
            out.push_str(&minify(self.items[i].get()));
            out.push('\n');
            previous = Some(i);
        }
        out.pop();
        Some(Kept {
            text: out,
            lossy: true,
        })
    }
}

/// Items that stand out: a value of a field (nested fields too, by path) that takes few values
/// overall and this one rarely (another currency, a failed status, a lock reason most items lack),
/// or a set of keys most items do not have.
fn rare_items(items: &[&RawValue]) -> Vec<bool> {
    let count = items.len();
    let leaves: Vec<Option<Vec<(String, String)>>> = items
        .iter()
        .map(|item| {
            let value: serde_json::Value = serde_json::from_str(item.get()).ok()?;
            let mut leaves = Vec::new();
            flatten("", &value, 0, &mut leaves);
            Some(leaves)
        })
        .collect();
    let mut shapes: HashMap<Vec<&str>, usize> = HashMap::new();
    let mut values: HashMap<&str, HashMap<&str, usize>> = HashMap::new();
    for item in leaves.iter().flatten() {
        let mut shape: Vec<&str> = item.iter().map(|(path, _)| path.as_str()).collect();
        shape.dedup();
        *shapes.entry(shape).or_default() += 1;
        for (path, value) in item {
            *values.entry(path).or_default().entry(value).or_default() += 1;
        }
    }
    let is_rare = |occurrences: usize| occurrences * 20 <= count;
    leaves
        .iter()
        .map(|item| {
            let Some(item) = item else {
                return true;
            };
            let mut shape: Vec<&str> = item.iter().map(|(path, _)| path.as_str()).collect();
            shape.dedup();
            if shapes.get(&shape).is_some_and(|&n| is_rare(n)) {
                return true;
            }
            item.iter().any(|(path, value)| {
                values.get(path.as_str()).is_some_and(|counts| {
                    let present: usize = counts.values().sum();
                    // A field that takes few values (a status, a currency), not an id or a name;
                    // or one most items lack (`"active_lock_reason": null` aside).
                    let few = counts.len() <= 3 || counts.len() * 8 <= count;
                    let categorical = few && (counts.len() > 1 || present * 2 < count);
                    categorical
                        && (counts.get(value.as_str()).is_some_and(|&n| is_rare(n))
                            || is_rare(present))
                })
            })
        })
        .collect()
}

/// The scalar leaves of a value, by path (`outcome.type`, `labels[].name`), null leaves left out
/// (an absent field and a null one read alike).
fn flatten(path: &str, value: &serde_json::Value, depth: usize, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(fields) if depth < 4 => {
            for (key, value) in fields {
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                flatten(&path, value, depth + 1, out);
            }
        }
        serde_json::Value::Array(elements) if depth < 4 => {
            for element in elements {
                flatten(&format!("{path}[]"), element, depth + 1, out);
            }
        }
        serde_json::Value::Null => {}
        other => out.push((path.to_owned(), other.to_string())),
    }
}

/// A JSON text without the whitespace between its tokens; strings, numbers and everything else
/// keep their exact text (no round trip through a number type).
pub fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn compress(text: &str, original: Option<&str>) -> Option<Kept> {
        let lines: Vec<&str> = text.split('\n').collect();
        assert!(Json.claims(text, &lines));
        Json.compress(text, &lines, original)
    }

    fn untable(kept: &str) -> Vec<Value> {
        serde_json::from_str(&crate::compress::fidelity::untable(kept)).unwrap()
    }

    #[test]
    fn uniform_objects_become_a_lossless_table_with_exact_values() {
        let items: Vec<String> = (0..50)
            .map(|i| format!("{{\"name\": \"pkg-{i}\", \"version\": \"1.{i}.0\", \"size\": 1e5, \"id\": 123456789012345678901234567890, \"deprecated\": {}}}", i == 7))
            .collect();
        let text = format!("[\n  {}\n]", items.join(",\n  "));
        let kept = compress(&text, None).unwrap();
        assert!(!kept.lossy);
        assert!(
            kept.text
                .contains("\"name\" | \"version\" | \"size\" | \"id\""),
            "keys in their order"
        );
        assert!(
            kept.text
                .contains("\"pkg-7\" | \"1.7.0\" | 1e5 | 123456789012345678901234567890 | true")
        );
        assert_eq!(untable(&kept.text).len(), 50);
        assert!(kept.text.len() < text.len() * 3 / 4);
    }

    #[test]
    fn an_envelope_keeps_its_other_fields_exactly() {
        let items: Vec<Value> = (0..30)
            .map(|i| serde_json::json!({"id": i, "user": {"login": format!("u{i}")}, "labels": ["bug"]}))
            .collect();
        let text = format!(
            "{{\"total_count\": 30, \"incomplete_results\": false, \"items\": {}, \"next\": 2.50}}",
            serde_json::to_string_pretty(&items).unwrap()
        );
        let kept = compress(&text, None).unwrap();
        assert!(!kept.lossy);
        assert!(kept.text.starts_with(
            "{\"total_count\":30,\"incomplete_results\":false,\"items\":\"<the array below>\",\"next\":2.50}\n"
        ), "{}", kept.text);
        let object: Value =
            serde_json::from_str(&crate::compress::fidelity::untable(&kept.text)).unwrap();
        assert_eq!(object["items"], Value::from(items));
    }

    #[test]
    fn a_long_array_of_mixed_items_keeps_ends_errors_and_what_stands_out() {
        let mut items: Vec<Value> = (0..100)
            .map(|i| serde_json::json!({"id": format!("ch_{i}"), "currency": "usd", "status": "succeeded", "amount": i * 100}))
            .collect();
        items[60]["currency"] = "eur".into();
        items[70]["status"] = "failed".into();
        items[40] = serde_json::json!({"id": "ch_40", "dispute": {"reason": "fraudulent"}});
        // Mixed shapes: no table.
        for (i, item) in items.iter_mut().enumerate().filter(|(i, _)| i % 3 == 0) {
            item["metadata"] = serde_json::json!({"order": i});
        }
        let text = serde_json::to_string(&items).unwrap();
        let kept = compress(&text, Some("/tmp/j.txt")).unwrap();
        assert!(kept.lossy, "{}", kept.text);
        for fact in [
            "\"ch_0\"",
            "\"ch_99\"",
            "\"eur\"",
            "\"failed\"",
            "fraudulent",
            "items omitted",
            "/tmp/j.txt",
        ] {
            assert!(kept.text.contains(fact), "{fact} lost:\n{}", kept.text);
        }
        assert!(!kept.text.contains("\"ch_50\""));
    }

    #[test]
    fn other_json_loses_only_whitespace() {
        let text = "{\n  \"name\": \"a  b\",\n  \"nested\": {\"big\": 18446744073709551616, \"e\": 1e5, \"s\": \"q\\\" x\"}\n}";
        let kept = compress(text, None).unwrap();
        assert_eq!(
            kept.text,
            "{\"name\":\"a  b\",\"nested\":{\"big\":18446744073709551616,\"e\":1e5,\"s\":\"q\\\" x\"}}"
        );
        assert_eq!(
            serde_json::from_str::<Value>(&kept.text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
        assert!(
            compress(&kept.text, None).is_none(),
            "nothing left to remove"
        );
    }
}
