//! Bundles every IPA policy in `infra/ipas/` twice: its TOML, as reviewed, and the
//! same document as JSON, which a Lambda parses at its cold start in a fraction of
//! TOML's time (docs/performance.md, "Cold starts"). The typed checks run on the
//! JSON at load time (`Policy::from_checked_json`), as on the TOML; mso-api's tests
//! load each file through `Policy::from_json`, which names a bad key. A file that
//! is not TOML at all stops the build here, naming it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let ipas = manifest.join("../../infra/ipas");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    println!("cargo::rerun-if-changed={}", ipas.display());

    let mut files: Vec<PathBuf> = fs::read_dir(&ipas)
        .unwrap_or_else(|e| panic!("{}: {e}", ipas.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();

    let mut table = String::from("&[\n");
    for file in &files {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a UTF-8 name");
        let repo_path = format!("infra/ipas/{name}.toml");
        let json = out.join(format!("{name}.json"));
        fs::write(&json, to_json(file, &repo_path)).expect("OUT_DIR is writable");
        writeln!(
            table,
            "    Bundled {{ name: {name:?}, path: {repo_path:?}, toml: include_str!({toml:?}), json: include_str!({json:?}) }},",
            toml = canonical(file),
            json = canonical(&json),
        )
        .expect("writing to a String");
    }
    table.push(']');
    fs::write(out.join("bundled.rs"), table).expect("OUT_DIR is writable");
}

fn canonical(path: &Path) -> String {
    let path = fs::canonicalize(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path.to_str().expect("a UTF-8 path").to_owned()
}

fn to_json(file: &Path, repo_path: &str) -> String {
    let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("{repo_path}: {e}"));
    let document: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{repo_path} is not valid TOML:\n{e}"));
    let json = json_of(toml::Value::Table(document), repo_path);
    serde_json::to_string(&json).expect("a JSON value serialises")
}

/// The JSON value of a TOML one; dates and times become their TOML text, which is
/// what the policy's types read (dates are strings in the policy files).
fn json_of(value: toml::Value, repo_path: &str) -> serde_json::Value {
    use serde_json::Value as J;
    use toml::Value as T;
    match value {
        T::String(s) => J::String(s),
        T::Integer(i) => J::from(i),
        T::Float(f) => serde_json::Number::from_f64(f)
            .map(J::Number)
            .unwrap_or_else(|| panic!("{repo_path}: {f} has no JSON form")),
        T::Boolean(b) => J::Bool(b),
        T::Datetime(d) => J::String(d.to_string()),
        T::Array(items) => J::Array(items.into_iter().map(|v| json_of(v, repo_path)).collect()),
        T::Table(table) => J::Object(
            table
                .into_iter()
                .map(|(k, v)| (k, json_of(v, repo_path)))
                .collect(),
        ),
    }
}
