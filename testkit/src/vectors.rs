//! The known-answer files of `testdata/vectors/` (TOML).

use crate::hex;
pub use toml::{Table, Value};

/// Reads and parses `testdata/vectors/<name>`.
pub fn load(name: &str) -> Table {
    let path = crate::testdata(&format!("vectors/{name}"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.parse::<Table>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The array of tables `[[name]]` of a vector file.
pub fn cases<'a>(table: &'a Table, name: &str) -> Vec<&'a Table> {
    table
        .get(name)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no [[{name}]] in vector file"))
        .iter()
        .map(|v| v.as_table().expect("[[case]] is a table"))
        .collect()
}

/// A byte string given in one of the files' three forms: `<key>` as hex,
/// `<key>_ascii` as text, or `<key>_repeat = { byte = "dd", count = 50 }`.
pub fn bytes(case: &Table, key: &str) -> Vec<u8> {
    if let Some(v) = case.get(key) {
        return hex::decode(v.as_str().expect("hex string"));
    }
    if let Some(v) = case.get(&format!("{key}_ascii")) {
        return v.as_str().expect("string").as_bytes().to_vec();
    }
    if let Some(v) = case.get(&format!("{key}_repeat")) {
        let byte = hex::decode(v["byte"].as_str().expect("byte"))[0];
        let count = usize::try_from(v["count"].as_integer().expect("count")).expect("count");
        return vec![byte; count];
    }
    panic!("no {key} in vector case {case:?}")
}

/// A string field.
pub fn string<'a>(case: &'a Table, key: &str) -> &'a str {
    case.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string {key}"))
}

/// An integer field.
pub fn integer(case: &Table, key: &str) -> i64 {
    case.get(key)
        .and_then(Value::as_integer)
        .unwrap_or_else(|| panic!("no integer {key}"))
}
