//! The first place where two JSON values differ, as a JSON pointer with the value on each
//! side: how a verifier names the member of a document that is not what it should be (a
//! bundle that is not written as its schema requires, a certificate that states another fact
//! than its bundle gives). One comparison for every such check; the caller says whether a
//! member missing on one side differs from `null` on the other.

use serde_json::Value;

/// How a member present on one side and missing on the other compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// As a difference (a document's exact shape: missing and `null` are spelt apart).
    Differs,
    /// As `null` (facts compared by value, where an absent optional fact is `null`).
    IsNull,
}

/// Where two values first differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// JSON pointer of the member (`/` for the values themselves).
    pub pointer: String,
    /// The value on the left (`null` if missing there).
    pub left: Value,
    /// The value on the right (`null` if missing there).
    pub right: Value,
}

/// The first place, members in sorted order and array elements in order, where `a` and `b`
/// differ; `None` if they are equal.
pub fn first_difference(a: &Value, b: &Value, missing: Missing) -> Option<Difference> {
    let mut d = walk(a, b, missing, String::new())?;
    if d.pointer.is_empty() {
        d.pointer.push('/');
    }
    Some(d)
}

fn walk(a: &Value, b: &Value, missing: Missing, at: String) -> Option<Difference> {
    let differ = |at: String, l: Option<&Value>, r: Option<&Value>| Difference {
        pointer: at,
        left: l.cloned().unwrap_or(Value::Null),
        right: r.cloned().unwrap_or(Value::Null),
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let p = format!("{at}/{k}");
                match (x.get(k), y.get(k), missing) {
                    (Some(u), Some(v), _) => walk(u, v, missing, p),
                    (u, v, Missing::IsNull) => walk(
                        u.unwrap_or(&Value::Null),
                        v.unwrap_or(&Value::Null),
                        missing,
                        p,
                    ),
                    (u, v, Missing::Differs) => Some(differ(p, u, v)),
                }
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| walk(u, v, missing, format!("{at}/{i}"))),
        _ if a == b => None,
        _ => Some(differ(at, Some(a), Some(b))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn missing_members_differ_or_are_null_as_asked() {
        let a = json!({"a": 1, "b": null, "c": [1, 2]});
        let b = json!({"a": 1, "c": [1, 2]});
        let d = first_difference(&a, &b, Missing::Differs).map(|d| d.pointer);
        assert_eq!(d.as_deref(), Some("/b"));
        assert_eq!(first_difference(&a, &b, Missing::IsNull), None);
        let c = json!({"a": 1, "c": [1, 3]});
        let d = first_difference(&b, &c, Missing::IsNull).unwrap();
        assert_eq!(
            (d.pointer.as_str(), d.left, d.right),
            ("/c/1", json!(2), json!(3))
        );
        let d = first_difference(&json!([1]), &json!([1, 2]), Missing::Differs).unwrap();
        assert_eq!(d.pointer, "/");
        assert_eq!(
            first_difference(&json!(1), &json!(2), Missing::IsNull)
                .unwrap()
                .pointer,
            "/"
        );
    }
}
