//! infra/template.yaml as CloudFormation reads it, for the tests that must use
//! exactly the names a deployed stack gets (tests/smoke).
//!
//! yaml-rust2's own loader drops tags, so `!Ref AuthEventsQueue` would read as the
//! string "AuthEventsQueue" and `!Sub "mso-${IpaId}"` as a literal. [`load`] keeps
//! every short-form intrinsic as its long form (`{"Ref": ..}`, `{"Fn::Sub": ..}`,
//! `{"Fn::GetAtt": ..}`), and [`Stack`] resolves them for one IPA's parameters and
//! the physical IDs of the resources the test created.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::yaml::Hash;
use yaml_rust2::{ScanError, Yaml};

/// Parses a CloudFormation YAML document, keeping the intrinsic-function tags.
pub fn load(text: &str) -> Result<Yaml, ScanError> {
    let mut loader = Loader::default();
    Parser::new_from_str(text).load(&mut loader, false)?;
    Ok(loader.doc.unwrap_or(Yaml::Null))
}

#[derive(Default)]
struct Loader {
    /// Open collections, each with its intrinsic (`Fn::Sub`, `Ref`...), if tagged.
    open: Vec<(Yaml, Option<String>)>,
    /// The pending key of each open mapping (`BadValue` while none).
    keys: Vec<Yaml>,
    doc: Option<Yaml>,
}

/// `!Ref` -> `Ref`, `!Sub` -> `Fn::Sub`; other tags (`!!str`...) are not intrinsics.
fn intrinsic(tag: Option<Tag>) -> Option<String> {
    let tag = tag?;
    (tag.handle == "!").then(|| match tag.suffix.as_str() {
        "Ref" | "Condition" => tag.suffix,
        other => format!("Fn::{other}"),
    })
}

fn wrap(node: Yaml, function: Option<String>) -> Yaml {
    match function {
        None => node,
        Some(function) => {
            let mut hash = Hash::new();
            hash.insert(Yaml::String(function), node);
            Yaml::Hash(hash)
        }
    }
}

impl Loader {
    fn insert(&mut self, node: Yaml) {
        match self.open.last_mut() {
            None => self.doc = Some(node),
            Some((Yaml::Array(items), _)) => items.push(node),
            Some((Yaml::Hash(hash), _)) => {
                let key = self.keys.last_mut().expect("a key slot per open mapping");
                if key.is_badvalue() {
                    *key = node;
                } else {
                    hash.insert(std::mem::replace(key, Yaml::BadValue), node);
                }
            }
            Some(_) => unreachable!("only collections are open"),
        }
    }
}

impl MarkedEventReceiver for Loader {
    fn on_event(&mut self, event: Event, _: Marker) {
        match event {
            Event::Scalar(value, style, _, tag) => {
                let node = if style == TScalarStyle::Plain && tag.is_none() {
                    Yaml::from_str(&value)
                } else {
                    Yaml::String(value)
                };
                self.insert(wrap(node, intrinsic(tag)));
            }
            Event::SequenceStart(_, tag) => {
                self.open.push((Yaml::Array(Vec::new()), intrinsic(tag)))
            }
            Event::MappingStart(_, tag) => {
                self.open.push((Yaml::Hash(Hash::new()), intrinsic(tag)));
                self.keys.push(Yaml::BadValue);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if matches!(event, Event::MappingEnd) {
                    self.keys.pop();
                }
                let (node, function) = self.open.pop().expect("an end closes what was opened");
                self.insert(wrap(node, function));
            }
            // The template uses no anchors; an alias reads as null and fails loudly
            // wherever it is used.
            Event::Alias(_) => self.insert(Yaml::Null),
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd
            | Event::Nothing => {}
        }
    }
}

/// One stack of the template: its parameters (the IPA's, the pseudo parameters
/// and the template's defaults) and what `Ref` and `Fn::GetAtt` give for the
/// resources created so far.
pub struct Stack {
    pub template: Yaml,
    values: HashMap<String, String>,
}

impl Stack {
    /// `parameters`: the stack's (`IpaId`) and pseudo parameters
    /// (`AWS::AccountId`...); a template parameter not given takes its default.
    pub fn new(template: Yaml, parameters: &[(&str, &str)]) -> Stack {
        let mut values: HashMap<String, String> = HashMap::new();
        for (name, parameter) in template["Parameters"].as_hash().into_iter().flatten() {
            if let (Some(name), Some(default)) = (name.as_str(), scalar(&parameter["Default"])) {
                values.insert(name.to_string(), default);
            }
        }
        for (name, value) in parameters {
            values.insert(name.to_string(), value.to_string());
        }
        Stack { template, values }
    }

    /// The resources of one type, by logical ID, in template order.
    pub fn resources(&self, kind: &str) -> Vec<(String, Yaml)> {
        self.template["Resources"]
            .as_hash()
            .into_iter()
            .flatten()
            .filter(|(_, r)| r["Type"].as_str() == Some(kind))
            .map(|(name, r)| (name.as_str().unwrap_or_default().to_string(), r.clone()))
            .collect()
    }

    /// Records what `!Ref logical` gives (a table's or bucket's name, a queue's URL).
    pub fn set_ref(&mut self, logical: &str, value: impl Into<String>) {
        self.values.insert(logical.to_string(), value.into());
    }

    /// Records what `!GetAtt logical.attribute` gives.
    pub fn set_att(&mut self, logical: &str, attribute: &str, value: impl Into<String>) {
        self.values
            .insert(format!("{logical}.{attribute}"), value.into());
    }

    /// The value of a property: a scalar, `Ref`, `Fn::GetAtt` or `Fn::Sub`
    /// (string or `[string, variables]` form). A name nothing set is an error
    /// naming it, so a resource the test did not create cannot pass unseen.
    pub fn resolve(&self, value: &Yaml) -> Result<String, String> {
        if let Some(plain) = scalar(value) {
            return Ok(plain);
        }
        let hash = value
            .as_hash()
            .ok_or_else(|| format!("not a value: {value:?}"))?;
        let (function, argument) = hash.iter().next().ok_or("an empty map is not a value")?;
        match (function.as_str().unwrap_or_default(), argument) {
            ("Ref", Yaml::String(name)) => self.lookup(name),
            ("Fn::GetAtt", Yaml::String(path)) => self.lookup(path),
            ("Fn::GetAtt", Yaml::Array(parts)) => {
                let parts: Vec<&str> = parts.iter().filter_map(Yaml::as_str).collect();
                self.lookup(&parts.join("."))
            }
            ("Fn::Sub", Yaml::String(text)) => self.sub(text, &HashMap::new()),
            ("Fn::Sub", Yaml::Array(form)) => {
                let text = form
                    .first()
                    .and_then(Yaml::as_str)
                    .ok_or("Fn::Sub without a string")?;
                let mut local = HashMap::new();
                for (name, v) in form.get(1).and_then(Yaml::as_hash).into_iter().flatten() {
                    local.insert(
                        name.as_str().unwrap_or_default().to_string(),
                        self.resolve(v)?,
                    );
                }
                self.sub(text, &local)
            }
            (other, _) => Err(format!("{other} is not resolved here")),
        }
    }

    fn lookup(&self, name: &str) -> Result<String, String> {
        self.values.get(name).cloned().ok_or_else(|| {
            format!("nothing gives {name}: not a parameter nor a resource the test created")
        })
    }

    /// `${Name}` and `${Logical.Attribute}` replaced; `${!Literal}` is `${Literal}`.
    fn sub(&self, text: &str, local: &HashMap<String, String>) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {text}"))?
                + start;
            let name = &rest[start + 2..end];
            match name.strip_prefix('!') {
                Some(literal) => out.push_str(&format!("${{{literal}}}")),
                None => match local.get(name) {
                    Some(value) => out.push_str(value),
                    None => out.push_str(&self.lookup(name)?),
                },
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A function's environment as Lambda gets it: the template's global variables
    /// overridden by the function's own, every value resolved.
    pub fn environment(&self, function: &str) -> Result<Vec<(String, String)>, String> {
        let resource = &self.template["Resources"][function];
        if resource.is_badvalue() {
            return Err(format!("no resource {function} in the template"));
        }
        let mut names: Vec<&str> = Vec::new();
        for scope in [
            &self.template["Globals"]["Function"]["Environment"]["Variables"],
            &resource["Properties"]["Environment"]["Variables"],
        ] {
            for name in scope.as_hash().into_iter().flat_map(|vars| vars.keys()) {
                let name = name.as_str().unwrap_or_default();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
            .into_iter()
            .map(|name| {
                let value = self
                    .variable(function, name)
                    .unwrap_or_else(|| unreachable!("{name} was read from the template"))
                    .map_err(|e| format!("{function} {name}: {e}"))?;
                Ok((name.to_string(), value))
            })
            .collect()
    }

    /// The value of one variable of `function`'s environment, resolved: the
    /// function's own setting wins over the global one. `None` if neither sets it.
    pub fn variable(&self, function: &str, name: &str) -> Option<Result<String, String>> {
        let own =
            &self.template["Resources"][function]["Properties"]["Environment"]["Variables"][name];
        let global = &self.template["Globals"]["Function"]["Environment"]["Variables"][name];
        [own, global]
            .into_iter()
            .find(|v| !v.is_badvalue())
            .map(|v| self.resolve(v))
    }
}

/// `prior-auth` -> `PriorAuthFunction`: the SAM resource of a kebab-case function
/// (one name per function for crate, binary, events/ folder and resource).
pub fn function_resource(function: &str) -> String {
    let mut name: String = function
        .split('-')
        .map(|part| {
            let mut c = part.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    name.push_str("Function");
    name
}

fn scalar(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Parameters:
  IpaId: {Type: String}
  LogLevel: {Type: String, Default: info}
Globals:
  Function:
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        RUST_LOG: !Ref LogLevel
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "mso-${IpaId}-edits"
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          QUEUE_URL_EDITS: !Ref Queue
          BUCKET: !Sub ["docs-${Id}-${AWS::AccountId}", {Id: !Ref IpaId}]
          RUST_LOG: debug
          PRICE: ${!NotSubstituted}
"#;

    #[test]
    fn short_form_intrinsics_are_kept_and_resolved() {
        let mut stack = Stack::new(
            load(TEMPLATE).unwrap(),
            &[("IpaId", "sunrise"), ("AWS::AccountId", "1")],
        );
        let queue = &stack.resources("AWS::SQS::Queue")[0].1;
        assert_eq!(
            stack.resolve(&queue["Properties"]["QueueName"]).unwrap(),
            "mso-sunrise-edits"
        );
        let dlq = &queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"];
        assert!(
            stack.resolve(dlq).unwrap_err().contains("Dlq.Arn"),
            "not created yet"
        );
        stack.set_att("Dlq", "Arn", "arn:dlq");
        assert_eq!(stack.resolve(dlq).unwrap(), "arn:dlq");

        assert!(stack.environment("Fn").unwrap_err().contains("Table"));
        stack.set_ref("Table", "mso-sunrise");
        stack.set_ref("Queue", "http://sqs/edits");
        let env = stack.environment("Fn").unwrap();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("TABLE_NAME"), Some("mso-sunrise"));
        assert_eq!(get("QUEUE_URL_EDITS"), Some("http://sqs/edits"));
        assert_eq!(get("BUCKET"), Some("docs-sunrise-1"));
        assert_eq!(
            get("RUST_LOG"),
            Some("debug"),
            "the function's own overrides the global"
        );
        assert_eq!(
            get("PRICE"),
            Some("${!NotSubstituted}"),
            "a plain string is not a Sub"
        );
        assert_eq!(stack.variable("Fn", "RUST_LOG"), Some(Ok("debug".into())));
        assert_eq!(
            stack.variable("Fn", "TABLE_NAME"),
            Some(Ok("mso-sunrise".into()))
        );
        assert_eq!(stack.variable("Fn", "CLAIMS_BUCKET"), None);
    }
}
