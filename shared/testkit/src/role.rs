//! A function's IAM role, as infra/template.yaml grants it, held against every
//! request its handler makes in a test.
//!
//! Neither the embedded store nor moto checks IAM, so a request the role does
//! not allow would first fail in AWS: a new read, a batch read where there was
//! a point read, a key outside the role's `dynamodb:LeadingKeys`, or an object
//! missing from a bucket the role may not list (S3 then answers 403, not 404).
//! [`RoleRecords`] and [`RoleBucket`] wrap a test's ports: each request is
//! checked as the AWS adapters would make it (`DynamoRecordStore` turns a
//! transaction of one write into that write, and a read of one distinct key
//! into `GetItem`), then handed on. A denied request fails as AWS fails it (an
//! error the handler sees), and the test fails when the role is dropped, even
//! if the handler swallowed the error.
//!
//! What it models: `Allow` statements with `Action`, `Resource` (`*` and `?` as
//! IAM's `StringLike`) and the one condition the roles use,
//! `ForAllValues:StringLike` on `dynamodb:LeadingKeys`, which must hold for
//! every key of one request (`BatchGetItem`) under a single statement, and for
//! each item of a transaction on its own. A statement with any other condition
//! allows nothing here. KMS for objects: in a bucket encrypted with the stack's
//! key, a write needs `kms:GenerateDataKey` on the key and a read
//! `kms:Decrypt`, as S3 asks on the caller's behalf. Not modelled: queues (the
//! writers' events leave through the table's stream in the stack, so the sends
//! a test sees are not the stack's; tests/contracts.rs checks the relays'
//! grants), KMS for the table, the queues and the environment (each role's
//! `UseStackKey` statement covers them; a unit test below holds every role to
//! it), and bucket policies.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use mso_store::{
    Condition, DocumentStore, Index, Key, ObjectMeta, Page, PresignedRequest, PutOutcome, Query,
    Record, RecordStore, StoreError, WriteOp,
};
use yaml_rust2::Yaml;

use crate::template::{self, Stack, function_resource};

/// The table's ARN in the stack the checks resolve (its name is the stack's).
pub const TABLE_ARN: &str = "arn:aws:dynamodb:us-west-2:123456789012:table/mso-sunrise";
/// The stack's KMS key (`DataKey`), as the checks resolve it.
pub const KEY_ARN: &str =
    "arn:aws:kms:us-west-2:123456789012:key/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d";

/// The ARN of the stack's queue of logical name `queue` (`claim-edits`), as the
/// checks resolve the template's (`mso-<ipa>-<queue>`).
pub fn queue_arn(queue: &str) -> String {
    format!("arn:aws:sqs:us-west-2:123456789012:mso-sunrise-{queue}")
}

/// The template resolved for one IPA, read once per test binary.
fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/template.yaml");
        let text = std::fs::read_to_string(path).expect("infra/template.yaml");
        let parsed = template::load(&text).expect("infra/template.yaml parses");
        let mut stack = Stack::new(
            parsed,
            &[
                ("IpaId", "sunrise"),
                ("AWS::AccountId", "123456789012"),
                ("AWS::Partition", "aws"),
                ("AWS::Region", "us-west-2"),
            ],
        );
        stack.set_att("Table", "Arn", TABLE_ARN);
        stack.set_att("DataKey", "Arn", KEY_ARN);
        stack.set_ref("DataKey", KEY_ARN.rsplit('/').next().unwrap_or_default());
        for (logical, bucket) in stack.resources("AWS::S3::Bucket") {
            if let Ok(name) = stack.resolve(&bucket["Properties"]["BucketName"]) {
                stack.set_att(&logical, "Arn", format!("arn:aws:s3:::{name}"));
                stack.set_ref(&logical, name);
            }
        }
        for (logical, queue) in stack.resources("AWS::SQS::Queue") {
            if let Ok(name) = stack.resolve(&queue["Properties"]["QueueName"]) {
                let arn = queue_arn(name.strip_prefix("mso-sunrise-").unwrap_or(&name));
                stack.set_att(&logical, "Arn", arn);
                stack.set_att(&logical, "QueueName", name.clone());
                let url = format!("https://sqs.us-west-2.amazonaws.com/123456789012/{name}");
                stack.set_ref(&logical, url);
            }
        }
        stack
    })
}

/// One `Allow` statement of a role, resolved for the stack.
pub struct Statement {
    sid: String,
    actions: Vec<String>,
    /// ARN patterns; a resource the stack cannot resolve here is left out:
    /// nothing checked here names it.
    resources: Vec<String>,
    /// `None`: the statement has no condition.
    leading_keys: Option<Vec<String>>,
    /// A condition other than `dynamodb:LeadingKeys`: not modelled, so the
    /// statement allows nothing.
    unmodelled_condition: bool,
}

impl Statement {
    fn of(statement: &Yaml, stack: &Stack) -> Statement {
        let list = |value: &Yaml| -> Vec<Yaml> {
            match value {
                Yaml::Array(items) => items.clone(),
                Yaml::BadValue | Yaml::Null => vec![],
                one => vec![one.clone()],
            }
        };
        let condition = &statement["Condition"];
        let leading_keys = &condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
        let only_leading_keys = condition.as_hash().is_none_or(|c| {
            c.len() == 1
                && condition["ForAllValues:StringLike"]
                    .as_hash()
                    .is_some_and(|s| s.len() == 1)
        });
        Statement {
            sid: statement["Sid"].as_str().unwrap_or("(no Sid)").to_string(),
            actions: list(&statement["Action"])
                .iter()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect(),
            resources: list(&statement["Resource"])
                .iter()
                .filter_map(|r| stack.resolve(r).ok())
                .collect(),
            leading_keys: (!leading_keys.is_badvalue()).then(|| {
                list(leading_keys)
                    .iter()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect()
            }),
            unmodelled_condition: !only_leading_keys,
        }
    }

    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The actions it names (`dynamodb:GetItem`, `sqs:*`).
    pub fn actions(&self) -> &[String] {
        &self.actions
    }

    /// The partition-key patterns its `ForAllValues:StringLike` condition on
    /// `dynamodb:LeadingKeys` limits the table to; `None` without one.
    pub fn leading_keys(&self) -> Option<&[String]> {
        self.leading_keys.as_deref()
    }

    fn allows(&self, action: &str, resource: &str, keys: &[&str]) -> bool {
        !self.unmodelled_condition
            && self.actions.iter().any(|a| string_like(a, action))
            && self.resources.iter().any(|r| string_like(r, resource))
            && self.leading_keys.as_ref().is_none_or(|patterns| {
                keys.iter()
                    .all(|key| patterns.iter().any(|p| string_like(p, key)))
            })
    }
}

/// One function's role: its `Allow` statements, and the requests it refused.
pub struct Role {
    function: String,
    statements: Vec<Statement>,
    denied: Mutex<Vec<String>>,
}

impl Role {
    /// The role of `function` (kebab-case: `claims-s3`) in infra/template.yaml.
    pub fn of(function: &str) -> Arc<Role> {
        let stack = stack();
        let resource = &stack.template["Resources"][function_resource(function).as_str()];
        assert!(
            !resource.is_badvalue(),
            "no {function} in infra/template.yaml"
        );
        let statements = resource["Properties"]["Policies"]
            .as_vec()
            .into_iter()
            .flatten()
            .flat_map(|policy| policy["Statement"].as_vec().cloned().unwrap_or_default())
            .filter(|s| s["Effect"].as_str() == Some("Allow"))
            .map(|s| Statement::of(&s, stack))
            .collect();
        Arc::new(Role {
            function: function.to_string(),
            statements,
            denied: Mutex::new(Vec::new()),
        })
    }

    /// The bucket the function's environment variable `variable` names, if
    /// the template sets it.
    pub fn bucket(&self, variable: &str) -> Option<String> {
        stack()
            .variable(&function_resource(&self.function), variable)
            .and_then(Result::ok)
    }

    /// Its `Allow` statements.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Whether one statement allows `action` on `resource` for every key of
    /// one request.
    pub fn allows(&self, action: &str, resource: &str, keys: &[&str]) -> bool {
        self.statements
            .iter()
            .any(|s| s.allows(action, resource, keys))
    }

    /// `Ok` if allowed; otherwise the denial is kept and answered as AWS does.
    fn check(&self, action: &str, resource: &str, keys: &[&str]) -> Result<(), StoreError> {
        if self.allows(action, resource, keys) {
            return Ok(());
        }
        Err(self.deny(format!(
            "{} may not {action} on {resource} (keys {keys:?})",
            self.function
        )))
    }

    fn deny(&self, why: String) -> StoreError {
        eprintln!("AccessDenied: {why}");
        self.denied.lock().unwrap().push(why.clone());
        StoreError::backend("AccessDenied (the function's role)", why)
    }

    /// What was denied so far.
    pub fn denied(&self) -> Vec<String> {
        self.denied.lock().unwrap().clone()
    }

    /// Which statements the role has, by Sid (for a failing test's message).
    fn sids(&self) -> Vec<&str> {
        self.statements.iter().map(|s| s.sid.as_str()).collect()
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let denied = self
            .denied
            .get_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        if !denied.is_empty() && !std::thread::panicking() {
            panic!(
                "{}'s role (statements {:?}) denied {} request(s) the handler made:\n{}",
                self.function,
                self.sids(),
                denied.len(),
                denied.join("\n")
            );
        }
    }
}

/// IAM's `StringLike`: `*` any run of characters, `?` any one.
pub fn string_like(pattern: &str, value: &str) -> bool {
    match pattern.chars().next() {
        None => value.is_empty(),
        Some('*') => {
            let rest = &pattern[1..];
            value
                .char_indices()
                .map(|(i, _)| i)
                .chain([value.len()])
                .any(|i| string_like(rest, &value[i..]))
        }
        Some(p) => value.chars().next().is_some_and(|v| {
            (p == '?' || p == v) && string_like(&pattern[p.len_utf8()..], &value[v.len_utf8()..])
        }),
    }
}

/// The records port, as `role` lets its function use the table.
pub struct RoleRecords {
    inner: Arc<dyn RecordStore>,
    role: Arc<Role>,
}

impl RoleRecords {
    pub fn wrap(inner: Arc<dyn RecordStore>, role: Arc<Role>) -> Arc<dyn RecordStore> {
        Arc::new(RoleRecords { inner, role })
    }

    fn item(&self, action: &str, key: &Key) -> Result<(), StoreError> {
        self.role.check(action, TABLE_ARN, &[key.pk.as_str()])
    }

    /// A request for `keys` as the adapter makes it: each distinct key once,
    /// with `one` (`dynamodb:GetItem`) when one is left, else the batch `many`.
    fn batch(&self, one: &str, many: &str, keys: &[Key]) -> Result<(), StoreError> {
        let mut items: Vec<&Key> = keys.iter().collect();
        items.sort();
        items.dedup();
        let action = if items.len() == 1 { one } else { many };
        let pks: Vec<&str> = items.iter().map(|k| k.pk.as_str()).collect();
        self.role.check(action, TABLE_ARN, &pks)
    }

    /// A transaction's items, each checked on its own (as IAM checks
    /// `TransactWriteItems`); one write alone is that write.
    fn write(&self, op: &WriteOp) -> Result<(), StoreError> {
        match op {
            WriteOp::Put { record, .. } => self.item("dynamodb:PutItem", &record.key),
            WriteOp::Delete { key, .. } => self.item("dynamodb:DeleteItem", key),
            // Sent only with a condition (`DynamoRecordStore::transact_item`).
            WriteOp::Check {
                condition: Condition::None,
                ..
            } => Ok(()),
            WriteOp::Check { key, .. } => self.item("dynamodb:ConditionCheckItem", key),
        }
    }
}

#[async_trait]
impl RecordStore for RoleRecords {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.item("dynamodb:GetItem", key)?;
        self.inner.get(key).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StoreError> {
        self.batch("dynamodb:GetItem", "dynamodb:BatchGetItem", keys)?;
        self.inner.get_many(keys).await
    }

    async fn put(&self, record: Record, condition: Condition) -> Result<(), StoreError> {
        self.item("dynamodb:PutItem", &record.key)?;
        self.inner.put(record, condition).await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        for op in &ops {
            self.write(op)?;
        }
        self.inner.transact(ops).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let resource = match query.index {
            Index::Primary => TABLE_ARN.to_string(),
            Index::Gsi1 => format!("{TABLE_ARN}/index/gsi1"),
        };
        self.role
            .check("dynamodb:Query", &resource, &[query.pk.as_str()])?;
        self.inner.query(query).await
    }

    async fn append(&self, record: Record) -> Result<(), StoreError> {
        self.item("dynamodb:PutItem", &record.key)?;
        self.inner.append(record).await
    }

    async fn put_lazy(&self, record: Record, condition: Condition) -> Result<(), StoreError> {
        self.item("dynamodb:PutItem", &record.key)?;
        self.inner.put_lazy(record, condition).await
    }

    async fn put_lazy_or_get(
        &self,
        record: Record,
        condition: Condition,
    ) -> Result<PutOutcome, StoreError> {
        self.item("dynamodb:PutItem", &record.key)?;
        self.inner.put_lazy_or_get(record, condition).await
    }

    async fn delete_lazy(&self, key: &Key) -> Result<(), StoreError> {
        self.item("dynamodb:DeleteItem", key)?;
        self.inner.delete_lazy(key).await
    }

    async fn delete_many_lazy(&self, keys: &[Key]) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(()); // no request
        }
        self.batch("dynamodb:DeleteItem", "dynamodb:BatchWriteItem", keys)?;
        self.inner.delete_many_lazy(keys).await
    }
}

/// The KMS key that encrypts the objects of the stack's bucket `name`, if
/// its default encryption is `aws:kms` (else S3's own keys: no KMS request).
pub fn bucket_key(name: &str) -> Option<String> {
    let stack = stack();
    stack
        .resources("AWS::S3::Bucket")
        .into_iter()
        .find(|(_, bucket)| {
            stack
                .resolve(&bucket["Properties"]["BucketName"])
                .is_ok_and(|n| n == name)
        })
        .and_then(|(_, bucket)| {
            let rules =
                &bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"];
            let default = &rules[0]["ServerSideEncryptionByDefault"];
            (default["SSEAlgorithm"].as_str() == Some("aws:kms"))
                .then(|| stack.resolve(&default["KMSMasterKeyID"]).ok())
                .flatten()
        })
}

/// One bucket's port, as `role` lets its function use the bucket.
pub struct RoleBucket {
    inner: Arc<dyn DocumentStore>,
    role: Arc<Role>,
    variable: String,
    /// `None` when the template does not give the function the variable:
    /// then it cannot name the bucket, and every request is refused.
    bucket: Option<String>,
    /// The key its objects are encrypted with ([`bucket_key`]).
    key: Option<String>,
}

impl RoleBucket {
    /// `variable`: the environment variable that names the bucket to the
    /// function (`CLAIMS_BUCKET`).
    pub fn wrap(
        inner: Arc<dyn DocumentStore>,
        role: Arc<Role>,
        variable: &str,
    ) -> Arc<dyn DocumentStore> {
        let bucket = role.bucket(variable);
        Arc::new(RoleBucket {
            key: bucket.as_deref().and_then(bucket_key),
            bucket,
            variable: variable.to_string(),
            inner,
            role,
        })
    }

    fn bucket(&self) -> Result<&str, StoreError> {
        self.bucket.as_deref().ok_or_else(|| {
            self.role.deny(format!(
                "{} uses the bucket of {}, which the template does not set for it",
                self.role.function, self.variable
            ))
        })
    }

    fn object(&self, action: &str, key: &str) -> Result<(), StoreError> {
        let arn = format!("arn:aws:s3:::{}/{key}", self.bucket()?);
        self.role.check(action, &arn, &[])
    }

    /// What S3 asks KMS on the caller's behalf to write (`kms:GenerateDataKey`)
    /// or read (`kms:Decrypt`) an object of a bucket encrypted with a key.
    fn with_key(&self, action: &str) -> Result<(), StoreError> {
        match &self.key {
            Some(key) => self.role.check(action, key, &[]),
            None => Ok(()),
        }
    }

    /// S3 tells a role that may not list the bucket nothing about a missing
    /// key: it answers 403, as for a key the role may not read.
    fn missing<T>(&self, key: &str, found: Option<T>) -> Result<Option<T>, StoreError> {
        let bucket = format!("arn:aws:s3:::{}", self.bucket()?);
        if found.is_none() && !self.role.allows("s3:ListBucket", &bucket, &[]) {
            return Err(self.role.deny(format!(
                "{} read {key}, which is missing, and may not s3:ListBucket {bucket}: S3 answers 403, not 404",
                self.role.function
            )));
        }
        Ok(found)
    }
}

#[async_trait]
impl DocumentStore for RoleBucket {
    async fn put(&self, key: &str, content_type: &str, bytes: Bytes) -> Result<(), StoreError> {
        self.object("s3:PutObject", key)?;
        self.with_key("kms:GenerateDataKey")?;
        self.inner.put(key, content_type, bytes).await
    }

    async fn put_if_absent(
        &self,
        key: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<bool, StoreError> {
        // A conditional write is a PutObject to IAM.
        self.object("s3:PutObject", key)?;
        self.with_key("kms:GenerateDataKey")?;
        self.inner.put_if_absent(key, content_type, bytes).await
    }

    async fn get(&self, key: &str) -> Result<Option<(ObjectMeta, Bytes)>, StoreError> {
        self.object("s3:GetObject", key)?;
        self.with_key("kms:Decrypt")?;
        let found = self.inner.get(key).await?;
        self.missing(key, found)
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.object("s3:GetObject", key)?;
        let found = self.inner.head(key).await?;
        self.missing(key, found)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.object("s3:DeleteObject", key)?;
        self.inner.delete(key).await
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError> {
        // The URL carries the role's signature: S3 checks the role's grant
        // when the client uses it.
        self.object("s3:PutObject", key)?;
        self.with_key("kms:GenerateDataKey")?;
        self.inner
            .presign_put(key, content_type, content_length, expires_in)
            .await
    }

    async fn presign_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError> {
        self.object("s3:GetObject", key)?;
        self.with_key("kms:Decrypt")?;
        self.inner.presign_get(key, expires_in).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mso_store::embedded::Embedded;

    fn embedded() -> (Embedded, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let embedded = Embedded::open(dir.path(), "http://127.0.0.1:9".into()).unwrap();
        (embedded, dir)
    }

    #[tokio::test]
    async fn a_request_the_role_allows_is_handed_on() {
        let (embedded, _dir) = embedded();
        let records = RoleRecords::wrap(embedded.records(), Role::of("eligibility"));
        assert!(
            records
                .get(&Key::new("MEMBER#SUN100001", "PROFILE"))
                .await
                .unwrap()
                .is_none()
        );
    }

    /// The handler sees AWS's refusal, and the test fails even if the handler
    /// carried on without the record.
    #[tokio::test]
    #[should_panic(expected = "eligibility's role")]
    async fn a_request_the_role_does_not_allow_fails_and_so_does_the_test() {
        let (embedded, _dir) = embedded();
        let role = Role::of("eligibility");
        let records = RoleRecords::wrap(embedded.records(), role.clone());
        let refused = records
            .put(
                Record::new(
                    Key::new("MEMBER#SUN100001", "PROFILE"),
                    serde_json::json!({}),
                ),
                Condition::None,
            )
            .await;
        assert!(matches!(refused, Err(StoreError::Backend { .. })));
        assert_eq!(role.denied().len(), 1);
        assert!(
            records
                .get(&Key::new("MEMBER#SUN100001", "PROFILE"))
                .await
                .unwrap()
                .is_none()
        );
        drop((records, role));
    }

    #[tokio::test]
    async fn a_missing_object_is_none_only_to_a_role_that_may_list_the_bucket() {
        let (embedded, _dir) = embedded();
        let listing = Role::of("claims-s3");
        let bucket = RoleBucket::wrap(embedded.documents(), listing.clone(), "CLAIMS_BUCKET");
        assert!(bucket.get("inbound/gone.837").await.unwrap().is_none());
        assert!(listing.denied().is_empty());

        let not_listing = Role::of("claims");
        let bucket = RoleBucket::wrap(embedded.documents(), not_listing.clone(), "CLAIMS_BUCKET");
        assert!(bucket.head("claim-files/CF-1.x12").await.is_err());
        assert_eq!(not_listing.denied().len(), 1);
        // Dropped without failing this test: the denial was the point.
        not_listing.denied.lock().unwrap().clear();
    }

    #[test]
    fn a_pattern_matches_as_iam_string_like_does() {
        assert!(string_like("PA#*", "PA#PA-1") && string_like("UM?UEUE", "UMQUEUE"));
        assert!(!string_like("PA#*", "PALIST#x") && !string_like("UMQUEUE", "UMQUEUES"));
    }

    #[test]
    fn a_role_allows_what_its_statements_name_and_nothing_else() {
        let role = Role::of("eligibility");
        assert!(role.allows("dynamodb:GetItem", TABLE_ARN, &["MEMBER#SUN100001"]));
        assert!(role.allows(
            "dynamodb:BatchGetItem",
            TABLE_ARN,
            &["MEMBER#SUN100001", "PROVIDER#1234567893"]
        ));
        assert!(!role.allows("dynamodb:GetItem", TABLE_ARN, &["CLM#CLM-1"]));
        assert!(!role.allows("dynamodb:PutItem", TABLE_ARN, &["MEMBER#SUN100001"]));
        assert!(!role.allows(
            "dynamodb:GetItem",
            &format!("{TABLE_ARN}/index/gsi1"),
            &["MEMBER#SUN100001"]
        ));
        assert!(!role.allows(
            "s3:GetObject",
            "arn:aws:s3:::mso-sunrise-docs-123456789012/documents/x",
            &[]
        ));
    }

    #[test]
    fn a_bucket_is_the_one_the_function_s_variable_names() {
        let role = Role::of("claims-s3");
        assert_eq!(
            role.bucket("CLAIMS_BUCKET").as_deref(),
            Some("mso-sunrise-claims-123456789012")
        );
        assert_eq!(role.bucket("DOCUMENTS_BUCKET"), None);
        assert!(role.allows(
            "s3:PutObject",
            "arn:aws:s3:::mso-sunrise-claims-123456789012/acks/CF-1/999.x12",
            &[]
        ));
        assert!(!role.allows(
            "s3:PutObject",
            "arn:aws:s3:::mso-sunrise-docs-123456789012/acks/CF-1/999.x12",
            &[]
        ));
    }

    #[test]
    fn an_encrypted_bucket_s_objects_need_the_stack_key() {
        assert_eq!(
            bucket_key("mso-sunrise-claims-123456789012").as_deref(),
            Some(KEY_ARN)
        );
        assert_eq!(
            bucket_key("mso-sunrise-docs-123456789012").as_deref(),
            Some(KEY_ARN)
        );
        assert_eq!(bucket_key("no-such-bucket"), None);
    }

    /// Lambda decrypts a function's environment with its role, and every
    /// store of the stack is encrypted with the one key.
    #[test]
    fn every_function_may_use_the_stack_key() {
        let stack = stack();
        let functions = stack.resources("AWS::Serverless::Function");
        assert!(functions.len() >= 14, "{}", functions.len());
        for (logical, _) in functions {
            let function = logical.strip_suffix("Function").unwrap_or(&logical);
            let kebab: String = function
                .chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    let dash = (i > 0 && c.is_ascii_uppercase()).then_some('-');
                    dash.into_iter().chain([c.to_ascii_lowercase()])
                })
                .collect();
            let role = Role::of(&kebab);
            for action in ["kms:Decrypt", "kms:GenerateDataKey"] {
                assert!(
                    role.allows(action, KEY_ARN, &[]),
                    "{kebab} may not {action}"
                );
            }
            assert!(!role.allows(
                "kms:Decrypt",
                "arn:aws:kms:us-west-2:123456789012:key/other",
                &[]
            ));
        }
    }

    #[tokio::test]
    async fn an_object_is_written_and_read_with_the_bucket_s_key() {
        let (embedded, _dir) = embedded();
        let (k, bytes) = ("acks/CF-1/999.x12", Bytes::from_static(b"ISA~"));
        let role = Role::of("claims-s3");
        let bucket = RoleBucket::wrap(embedded.documents(), role.clone(), "CLAIMS_BUCKET");
        bucket
            .put(k, "application/edi-x12", bytes.clone())
            .await
            .unwrap();
        assert!(bucket.get(k).await.unwrap().is_some());
        assert!(role.denied().is_empty());

        // The same role without its statement for the key: S3 refuses both.
        let mut keyless = Arc::try_unwrap(Role::of("claims-s3")).ok().unwrap();
        keyless.statements.retain(|s| s.sid != "UseStackKey");
        let keyless = Arc::new(keyless);
        let bucket = RoleBucket::wrap(embedded.documents(), keyless.clone(), "CLAIMS_BUCKET");
        assert!(bucket.put(k, "application/edi-x12", bytes).await.is_err());
        assert!(bucket.get(k).await.is_err());
        let denied = keyless.denied();
        assert_eq!(denied.len(), 2, "{denied:?}");
        assert!(denied[0].contains("kms:GenerateDataKey") && denied[1].contains("kms:Decrypt"));
        // Dropped without failing this test: the denials were the point.
        keyless.denied.lock().unwrap().clear();
    }

    #[test]
    fn a_queue_is_its_arn_in_the_stack() {
        let (relay, eligibility) = (Role::of("outbox-relay"), Role::of("eligibility"));
        let edits = queue_arn("claim-edits");
        assert_eq!(
            edits,
            "arn:aws:sqs:us-west-2:123456789012:mso-sunrise-claim-edits"
        );
        assert!(relay.allows("sqs:SendMessage", &edits, &[]));
        assert!(!relay.allows("sqs:SendMessage", &queue_arn("claim-edits-dlq"), &[]));
        assert!(!eligibility.allows("sqs:SendMessage", &edits, &[]));
    }
}
