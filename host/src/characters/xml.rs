//! Characters as XML, for tools that want XML: the W3C "XML representation of JSON" (the format of
//! XPath 3.1's `fn:json-to-xml`), so the mapping is a published standard rather than our own, and
//! any JSON value — and therefore any export — survives the round trip exactly.
//!
//! ```xml
//! <map xmlns="http://www.w3.org/2005/xpath-functions">
//!   <string key="name">Grog</string>
//!   <array key="conditions"><string>poisoned</string></array>
//!   <number key="exhaustion">0</number>
//! </map>
//! ```

use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Map, Number, Value};

pub const NAMESPACE: &str = "http://www.w3.org/2005/xpath-functions";

/// Deepest nesting accepted when reading, so a hostile document cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

pub fn to_xml(value: &Value) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    write(&mut w, value, None, true);
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

fn write(w: &mut Writer<Vec<u8>>, value: &Value, key: Option<&str>, root: bool) {
    let tag = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "map",
    };
    let mut start = BytesStart::new(tag);
    if root {
        start.push_attribute(("xmlns", NAMESPACE));
    }
    if let Some(k) = key {
        start.push_attribute(("key", k));
    }
    let text = match value {
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let empty = match value {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => text.is_none(),
    };
    if empty {
        let _ = w.write_event(Event::Empty(start));
        return;
    }
    let _ = w.write_event(Event::Start(start));
    match value {
        Value::Array(items) => items.iter().for_each(|v| write(w, v, None, false)),
        Value::Object(map) => map.iter().for_each(|(k, v)| write(w, v, Some(k), false)),
        _ => {
            let _ = w.write_event(Event::Text(BytesText::new(
                text.as_deref().unwrap_or_default(),
            )));
        }
    }
    let _ = w.write_event(Event::End(BytesEnd::new(tag)));
}

/// An element being read: its kind, its key in the parent map, and what it holds so far.
struct Open {
    tag: String,
    key: Option<String>,
    text: String,
    items: Vec<Value>,
    map: Map<String, Value>,
}

pub fn from_xml(xml: &str) -> Result<Value, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Open> = Vec::new();
    let mut result: Option<Value> = None;
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {at}: {e}"))?;
        match event {
            Event::Start(e) | Event::Empty(e) if result.is_some() => {
                let _ = e;
                return Err("more than one root element".into());
            }
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("nested deeper than {MAX_DEPTH} levels"));
                }
                stack.push(open(&e, &stack)?);
            }
            Event::Empty(e) => {
                let el = open(&e, &stack)?;
                finish(el, &mut stack, &mut result)?;
            }
            Event::End(_) => {
                let el = stack.pop().ok_or("unbalanced closing tag")?;
                finish(el, &mut stack, &mut result)?;
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| format!("bad text: {e}"))?;
                push_text(&mut stack, &text)?;
            }
            Event::CData(t) => {
                let text = String::from_utf8(t.into_inner().into_owned())
                    .map_err(|_| "CDATA is not UTF-8".to_string())?;
                push_text(&mut stack, &text)?;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(format!("<{}> is never closed", stack[stack.len() - 1].tag));
    }
    result.ok_or_else(|| "the document has no root element".into())
}

fn open(e: &BytesStart, stack: &[Open]) -> Result<Open, String> {
    let tag = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    if !matches!(
        tag.as_str(),
        "map" | "array" | "string" | "number" | "boolean" | "null"
    ) {
        return Err(format!(
            "unexpected element <{tag}>: expected map, array, string, number, boolean or null"
        ));
    }
    let key = e
        .try_get_attribute("key")
        .map_err(|err| format!("bad attribute on <{tag}>: {err}"))?
        .map(|a| a.unescape_value().map(|v| v.into_owned()))
        .transpose()
        .map_err(|err| format!("bad key on <{tag}>: {err}"))?;
    match stack.last() {
        Some(parent) if parent.tag == "map" && key.is_none() => {
            return Err(format!("<{tag}> inside a map needs a key attribute"));
        }
        Some(parent) if !matches!(parent.tag.as_str(), "map" | "array") => {
            return Err(format!("<{}> cannot contain elements", parent.tag));
        }
        _ => {}
    }
    Ok(Open {
        tag,
        key,
        text: String::new(),
        items: Vec::new(),
        map: Map::new(),
    })
}

fn push_text(stack: &mut [Open], text: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some(el) if matches!(el.tag.as_str(), "string" | "number" | "boolean") => {
            el.text.push_str(text);
            Ok(())
        }
        // Indentation between elements.
        _ if text.trim().is_empty() => Ok(()),
        Some(el) => Err(format!("<{}> cannot contain text", el.tag)),
        None => Err("text outside the root element".into()),
    }
}

fn finish(el: Open, stack: &mut [Open], result: &mut Option<Value>) -> Result<(), String> {
    let value = match el.tag.as_str() {
        "map" => Value::Object(el.map),
        "array" => Value::Array(el.items),
        "string" => Value::String(el.text),
        "null" => Value::Null,
        "boolean" => match el.text.trim() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            other => return Err(format!("<boolean> holds {other:?}")),
        },
        _ => {
            let n: Number = serde_json::from_str(el.text.trim())
                .map_err(|_| format!("<number> holds {:?}", el.text))?;
            Value::Number(n)
        }
    };
    match stack.last_mut() {
        Some(parent) if parent.tag == "map" => {
            let key = el.key.unwrap_or_default();
            if parent.map.insert(key.clone(), value).is_some() {
                return Err(format!("key {key:?} appears twice in one map"));
            }
        }
        Some(parent) => parent.items.push(value),
        None => *result = Some(value),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_of_value_round_trips() {
        let v = json!({
            "s": "a <b> & \"c\" ünïcode", "empty": "", "n": -3, "f": 1.5, "big": 12345678901234i64,
            "t": true, "f2": false, "null": null, "arr": [1, "x", [], {}, null],
            "nested": {"deep": {"k": [true]}}, "key with spaces & <>": 0,
        });
        let xml = to_xml(&v);
        assert!(xml.contains(NAMESPACE));
        assert_eq!(from_xml(&xml).unwrap(), v);
        assert_eq!(from_xml(&to_xml(&json!([]))).unwrap(), json!([]));
        assert_eq!(from_xml(&to_xml(&json!("x"))).unwrap(), json!("x"));
    }

    #[test]
    fn bad_documents_are_refused_with_a_reason() {
        for (xml, says) in [
            ("<map><string>x</string></map>", "needs a key"),
            ("<map><foo key='a'/></map>", "unexpected element <foo>"),
            ("<number>abc</number>", "<number> holds"),
            ("<boolean>yes</boolean>", "<boolean> holds"),
            (
                "<map><string key='a'>1</string><string key='a'>2</string></map>",
                "twice",
            ),
            ("<map>text</map>", "cannot contain text"),
            ("<map>", "never closed"),
            ("", "no root element"),
            ("<null/><null/>", "more than one root"),
            (
                "<string key='a'><string/></string>",
                "cannot contain elements",
            ),
        ] {
            let err = from_xml(xml).unwrap_err();
            assert!(err.contains(says), "{xml}: {err}");
        }
        let deep = "<array>".repeat(100) + "</array>".repeat(100).as_str();
        assert!(from_xml(&deep).unwrap_err().contains("deeper"));
    }
}
