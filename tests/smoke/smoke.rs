//! The stack, smoke-tested without deploying it: every Lambda function of
//! infra/template.yaml runs one step of one story against moto, with the table,
//! buckets and queues created under exactly the names the template gives them for
//! an IPA, each function with exactly the environment the template sets it, and
//! each triggered as AWS would: API Gateway events from events/, S3 notifications
//! for objects put in the bucket its event source names (the key within its
//! filter), SQS batches received from the queue its event source names, the
//! table stream's new outbox rows (as its event source's filter passes them),
//! and its schedule. A renamed resource, a variable a function reads that the template
//! does not set, or a sample naming a bucket no event source delivers fails here,
//! not at deploy.
//!
//! The story: a practice checks eligibility, files a prior auth, uploads its
//! clinical notes (a presigned PUT into the documents bucket, then verified),
//! bills the visit (judged from the claim-edits queue), a clearinghouse drops an
//! 837 (acknowledged with a 999), the practice disputes the payment, a fax
//! arrives in the intake bucket and waits for the clerk; every sweeper runs.
//!
//! Each function runs in its own process (this binary again, with
//! `MSO_SMOKE_FUNCTION`), with a cleared environment holding only the template's
//! variables and what Lambda sets, as its main would: the crate's `aws_deps()`
//! and the same handler. Only the clock is fixed, to the samples' dates.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;

use anyhow::{Context, bail, ensure};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types as ddb;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sqs::types::QueueAttributeName;
use mso_api::FixedClock;
use mso_store::aws::SdkConfig;
use mso_testkit::moto::Moto;
use mso_testkit::template::{self, Stack, function_resource};
use serde_json::{Value, json};
use yaml_rust2::Yaml;

/// Moto's account, and the one the samples' bucket names carry.
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-west-2";
const IPA: &str = "sunrise";
/// The child process's function, event file and clock.
const FUNCTION_VAR: &str = "MSO_SMOKE_FUNCTION";
const EVENT_VAR: &str = "MSO_SMOKE_EVENT";
const NOW_VAR: &str = "MSO_SMOKE_NOW";
const RESULT: &str = "SMOKE-RESULT ";

/// The samples' dates: the prior auth and its notes (the testkit's NOW), the
/// visit billed (its date of service is 12 March), the payment disputed.
const FILED: &str = "2026-03-02T17:05:00Z";
const BILLED: &str = "2026-03-20T17:00:00Z";
const BILLED_SWEPT: &str = "2026-03-20T17:05:00Z";
const DISPUTED: &str = "2026-03-27T16:00:00Z";

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Ok(function) = std::env::var(FUNCTION_VAR) {
        return match runtime.block_on(lambda::invoke(&function)) {
            Ok(result) => {
                println!("{RESULT}{result}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{function}: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if std::env::args().any(|a| a == "--list") {
        println!("the_stack_runs_one_story_on_moto: test");
        return ExitCode::SUCCESS;
    }
    match runtime.block_on(story()) {
        Ok(true) => {
            println!("smoke: every function of the template ran its step on moto: ok");
            ExitCode::SUCCESS
        }
        Ok(false) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smoke: FAILED: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The story through every function; `false` when moto is missing and skipped.
async fn story() -> anyhow::Result<bool> {
    let Some(moto) = Moto::start() else {
        return Ok(false);
    };
    let aws = Deployed::create(&moto).await?;

    // A practice checks the member, then files an MRI that meets criteria.
    let (status, body) = aws
        .api("eligibility", "eligible.json", FILED, |_| {})
        .await?;
    ensure!(
        status == 200 && body["eligible"] == true,
        "eligibility: {status} {body}"
    );

    let (status, auth) = aws
        .api("prior-auth", "submit-criteria-met.json", FILED, |_| {})
        .await?;
    ensure!(
        status == 201 && auth["status"] == "approved",
        "prior auth: {status} {auth}"
    );
    let auth_id = auth["id"].as_str().context("prior auth id")?.to_string();

    // Its clinical notes: a presigned PUT into the documents bucket, then S3's
    // notification to the verifying function, then a download link.
    let letter = read(&repo("shared/domain/tests/fixtures/documents/letter.pdf"))?;
    let (status, slot) = aws
        .api("documents", "upload-clinical-notes.json", FILED, |e| {
            edit_body(e, |b| {
                b["owner"]["id"] = json!(auth_id);
                b["size"] = json!(letter.len());
            })
        })
        .await?;
    ensure!(status == 201, "document upload slot: {status} {slot}");
    let key = aws.presigned_put(&slot, letter).await?;
    let report = aws
        .s3(
            "documents-verify",
            "clinical-notes-uploaded.json",
            FILED,
            &key,
        )
        .await?;
    ensure!(
        report["records"][0]["outcome"] == "available",
        "verify: {report}"
    );
    let document = slot["id"].as_str().context("document id")?;
    let (status, body) = aws
        .api("documents", "get-available.json", FILED, |e| {
            at(e, "/v1/documents", document)
        })
        .await?;
    ensure!(
        status == 200 && body["status"] == "available" && body["download"]["url"].is_string(),
        "document: {status} {body}"
    );

    aws.scheduled("prior-auth-sweeper", FILED).await?;

    // The visit is billed; the edits run from the claim-edits queue.
    let (status, claim) = aws
        .api("claims", "submit-visit.json", BILLED, |_| {})
        .await?;
    ensure!(status == 202, "claim: {status} {claim}");
    let claim_id = claim["id"].as_str().context("claim id")?.to_string();
    // The claim's work item reaches its queue through the table's stream (the
    // auth's and the documents' events, stored before it, go with it).
    let relayed = aws.stream("outbox-relay", BILLED).await?;
    ensure!(
        relayed >= 2,
        "outbox-relay sent {relayed} events, expected at least the auth's and the claim's"
    );
    let handled = aws.sqs("claims-edits", BILLED).await?;
    ensure!(
        handled == 1,
        "claims-edits judged {handled} messages, expected the claim's one"
    );
    let (status, body) = aws
        .api("claims", "get-other-organisation.json", BILLED, |e| {
            at(e, "/v1/claims", &claim_id);
            e["requestContext"]["authorizer"] = sample("claims", "submit-visit.json")
                .map(|s| s["requestContext"]["authorizer"].clone())
                .unwrap_or_default();
        })
        .await?;
    ensure!(
        status == 200 && matches!(body["status"].as_str(), Some("accepted" | "pended")),
        "the judged claim: {status} {body}"
    );

    // A clearinghouse drops an 837 into the claims bucket.
    let file = read(&repo("events/claims-s3/one-visit.837"))?;
    let event = sample("claims-s3", "file-dropped.json")?;
    let drop_key = object_key(&event)?;
    aws.put("claims-s3", &drop_key, file).await?;
    let report = aws
        .s3("claims-s3", "file-dropped.json", BILLED, &drop_key)
        .await?;
    ensure!(
        report["records"][0]["outcome"] == "read" && report["records"][0]["claims"] == 1,
        "claims-s3: {report}"
    );
    let file_id = report["records"][0]["file_id"].as_str().unwrap_or_default();
    ensure!(
        aws.object_exists("claims-s3", &format!("acks/{file_id}/999.x12"))
            .await?,
        "no 999 for {file_id} in the claims bucket"
    );
    // The drop's claim went in with its edit work item, which no stream run has
    // relayed here: five minutes on, the sweeper sends it (to the queue the
    // template names: its relay holds the SQS client the writers do not).
    let swept = aws.scheduled("claims-sweeper", BILLED_SWEPT).await?;
    ensure!(
        swept["relayed_events"] == 1,
        "claims-sweeper: {swept}, expected the drop's claim's work item relayed"
    );

    // The practice disputes the payment.
    let (status, dispute) = aws
        .api("disputes", "submit-corrected-claim.json", DISPUTED, |e| {
            edit_body(e, |b| {
                b["claim_id"] = json!(claim_id);
                b["reason_category"] = json!("underpayment");
                b["reason"] = json!("Paid below the contracted rate for 99213.");
                b["remittance_date"] = json!("2026-03-25");
            })
        })
        .await?;
    ensure!(
        status == 201 && dispute["acknowledge_due"].is_string(),
        "dispute: {status} {dispute}"
    );
    aws.scheduled("disputes-sweeper", DISPUTED).await?;

    // A fax (with the gateway's sidecar) lands in the intake bucket.
    let fax = sample("intake-s3", "fax-received.json")?;
    let fax_key = &object_key(&fax)?;
    let sidecar_key = fax_key.replace(".pdf", ".json");
    let sidecar =
        json!({"from": "+13235550142", "received_at": "2026-02-28T16:40:00Z", "pages": 1});
    aws.put("intake-s3", &sidecar_key, serde_json::to_vec(&sidecar)?)
        .await?;
    let form = std::fs::read(repo(
        "functions/intake/tests/fixtures/auth-request-form.pdf",
    ))?;
    aws.put("intake-s3", fax_key, form).await?;
    let report = aws
        .s3("intake-s3", "fax-received.json", DISPUTED, fax_key)
        .await?;
    ensure!(
        report["records"][0]["outcome"] == "filed",
        "intake-s3: {report}"
    );
    let item = report["records"][0]["item"].clone();
    let (status, list) = aws
        .api("intake", "list-queued.json", DISPUTED, |_| {})
        .await?;
    let listed = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|i| i["id"] == item);
    ensure!(
        status == 200 && listed,
        "the clerk's queue: {status} {list}, item {item}"
    );

    // Every event of the story is relayed; the outbox is empty.
    aws.stream("outbox-relay", DISPUTED).await?;
    ensure!(
        aws.outbox().await?.is_empty(),
        "events left in the outbox after the relay"
    );

    let functions: BTreeSet<String> = aws
        .stack
        .resources("AWS::Serverless::Function")
        .into_iter()
        .map(|(logical, _)| logical)
        .collect();
    let covered: BTreeSet<String> = aws
        .invoked
        .lock()
        .unwrap()
        .iter()
        .map(|f| function_resource(f))
        .collect();
    ensure!(
        functions == covered,
        "the template's functions {functions:?}, the story ran {covered:?}: give a new function its step"
    );
    Ok(true)
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| path.display().to_string())
}

fn sample(function: &str, name: &str) -> anyhow::Result<Value> {
    let path = repo(&format!("events/{function}/{name}"));
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    Ok(serde_json::from_str(&text)?)
}

/// The object key of an S3 sample's first record (decoded as S3 encodes it).
fn object_key(event: &Value) -> anyhow::Result<String> {
    let raw = event["Records"][0]["s3"]["object"]["key"]
        .as_str()
        .unwrap_or_default();
    mso_api::s3_event::decode_key(raw).with_context(|| format!("bad key {raw}"))
}

/// Edits an API Gateway event's JSON body.
fn edit_body(event: &mut Value, edit: impl FnOnce(&mut Value)) {
    let mut body: Value =
        serde_json::from_str(event["body"].as_str().unwrap_or("{}")).unwrap_or_default();
    edit(&mut body);
    event["body"] = json!(body.to_string());
}

/// Points an API Gateway event for `{base}/{id}` at another id.
fn at(event: &mut Value, base: &str, id: &str) {
    let path = format!("{base}/{id}");
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    event["pathParameters"]["id"] = json!(id);
}

/// The stack's resources created in moto from the template, and how to trigger
/// its functions.
struct Deployed {
    stack: Stack,
    table: String,
    /// The table's stream (moto's ARN for it), for the stream event source.
    stream_arn: String,
    sdk: SdkConfig,
    endpoint: String,
    /// Queue ARN -> URL, for the SQS event sources.
    queue_urls: HashMap<String, String>,
    /// The value of the stack's cursor-key secret (`{{resolve:secretsmanager:..}}`).
    secret: String,
    events: tempfile::TempDir,
    /// The functions run so far: the story must run every one.
    invoked: std::sync::Mutex<BTreeSet<String>>,
}

impl Deployed {
    async fn create(moto: &Moto) -> anyhow::Result<Deployed> {
        let text = String::from_utf8(read(&repo("infra/template.yaml"))?)?;
        let mut stack = Stack::new(
            template::load(&text)?,
            &[
                ("IpaId", IPA),
                ("AWS::AccountId", ACCOUNT),
                ("AWS::Region", REGION),
                ("AWS::Partition", "aws"),
                ("AWS::StackName", &format!("mso-{IPA}")),
            ],
        );
        let sdk = mso_store::aws::sdk_config_for(
            REGION,
            Some(&moto.endpoint),
            Credentials::new("testing", "testing", None, None, "moto"),
        );

        let tables = stack.resources("AWS::DynamoDB::Table");
        ensure!(
            tables.len() == 1,
            "one table per stack (single-table design), found {}",
            tables.len()
        );
        let (logical, table) = &tables[0];
        let (table, stream_arn) = create_table(&stack, &sdk, &table["Properties"]).await?;
        stack.set_ref(logical, &table);
        stack.set_att(logical, "StreamArn", &stream_arn);
        let s3 = aws_sdk_s3::Client::new(&sdk);
        for (logical, bucket) in stack.resources("AWS::S3::Bucket") {
            let name = stack
                .resolve(&bucket["Properties"]["BucketName"])
                .map_err(anyhow::Error::msg)?;
            s3.create_bucket()
                .bucket(&name)
                .create_bucket_configuration(
                    aws_sdk_s3::types::CreateBucketConfiguration::builder()
                        .location_constraint(REGION.into())
                        .build(),
                )
                .send()
                .await
                .with_context(|| format!("bucket {name}"))?;
            stack.set_att(&logical, "Arn", format!("arn:aws:s3:::{name}"));
            stack.set_ref(&logical, name);
        }
        let queue_urls = create_queues(&mut stack, &sdk).await?;
        // Deployed, the secret is generated (64 letters and digits) and resolved
        // into the variable; here it is fixed.
        for (logical, _) in stack.resources("AWS::SecretsManager::Secret") {
            let arn = format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{logical}");
            stack.set_ref(&logical, arn);
        }
        let secret = "smoke0cursor0key0sealing0pages0of0every0list0route0of0the0stack0".to_string();

        // The IPA's roster, as `mso import` loads it.
        let records = mso_store::aws::DynamoRecordStore::new(
            &sdk,
            table.clone(),
            mso_store::CursorKey::from_secret(secret.as_bytes())?,
        );
        let policy = mso_api::policies::load(IPA)?;
        mso_testkit::load_directory(&records, &policy).await;

        Ok(Deployed {
            stack,
            table,
            stream_arn,
            sdk,
            endpoint: moto.endpoint.clone(),
            queue_urls,
            secret,
            events: tempfile::tempdir()?,
            invoked: Default::default(),
        })
    }

    /// The function's environment as the template sets it, with Lambda's own.
    fn environment(&self, function: &str) -> anyhow::Result<Vec<(String, String)>> {
        let mut env = self
            .stack
            .environment(&function_resource(function))
            .map_err(anyhow::Error::msg)?;
        for (_, value) in env.iter_mut() {
            if value.starts_with("{{resolve:secretsmanager:") {
                *value = self.secret.clone();
            }
            // The package's files (infra/build-lambdas.sh) are the repo's here.
            if let Some(packaged) = value.strip_prefix("/var/task/partitions/") {
                let table = repo("infra/partitions").join(packaged);
                *value = table.to_string_lossy().into_owned();
            }
        }
        for (name, value) in [
            ("AWS_LAMBDA_FUNCTION_NAME", format!("mso-{IPA}-{function}")),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_DEFAULT_REGION", REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_SESSION_TOKEN", "testing".to_string()),
            // Not Lambda's: where AWS is, here.
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
        ] {
            env.push((name.to_string(), value));
        }
        Ok(env)
    }

    /// Runs `function` in its own process on `event`, its clock at `now`.
    async fn invoke(&self, function: &str, event: &Value, now: &str) -> anyhow::Result<Value> {
        let path = self
            .events
            .path()
            .join(format!("{function}-{}.json", fastrand::u64(..)));
        std::fs::write(&path, event.to_string())?;
        let mut command = Command::new(std::env::current_exe()?);
        command
            .env_clear()
            .envs(self.environment(function)?)
            .env(FUNCTION_VAR, function)
            .env(EVENT_VAR, &path)
            .env(NOW_VAR, now);
        if let Ok(backtrace) = std::env::var("RUST_BACKTRACE") {
            command.env("RUST_BACKTRACE", backtrace);
        }
        self.invoked.lock().unwrap().insert(function.to_string());
        let out = command.output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        ensure!(
            out.status.success(),
            "{function} failed ({}):\n{stderr}",
            out.status
        );
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix(RESULT))
            .with_context(|| format!("{function} gave no result:\n{stdout}\n{stderr}"))?;
        Ok(serde_json::from_str(line)?)
    }

    /// An API Gateway sample, edited, through an HTTP function: (status, body).
    async fn api(
        &self,
        function: &str,
        name: &str,
        now: &str,
        edit: impl FnOnce(&mut Value),
    ) -> anyhow::Result<(u16, Value)> {
        let mut event = sample(function, name)?;
        edit(&mut event);
        let answer = self.invoke(function, &event, now).await?;
        let status = answer["status"].as_u64().unwrap_or_default() as u16;
        Ok((status, answer["body"].clone()))
    }

    /// The bucket the function's S3 event sources name (they all name one).
    fn bucket_of(&self, function: &str) -> anyhow::Result<String> {
        let sources = self.sources(function, "S3", "Bucket")?;
        let (bucket, _) = sources
            .first()
            .with_context(|| format!("{function} has no S3 event source"))?;
        Ok(bucket.clone())
    }

    /// `(resolved property, key prefix filter)` of each event source of a type.
    fn sources(
        &self,
        function: &str,
        kind: &str,
        property: &str,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let resource = &self.stack.template["Resources"][function_resource(function).as_str()];
        let mut found = Vec::new();
        for (_, event) in resource["Properties"]["Events"]
            .as_hash()
            .into_iter()
            .flatten()
        {
            if event["Type"].as_str() != Some(kind) {
                continue;
            }
            let props = &event["Properties"];
            let target = self
                .stack
                .resolve(&props[property])
                .map_err(anyhow::Error::msg)?;
            let prefix = props["Filter"]["S3Key"]["Rules"]
                .as_vec()
                .into_iter()
                .flatten()
                .find(|r| r["Name"].as_str() == Some("prefix"))
                .and_then(|r| r["Value"].as_str())
                .unwrap_or_default()
                .to_string();
            found.push((target, prefix));
        }
        Ok(found)
    }

    /// Puts an object into the bucket `function` is notified of, as the
    /// clearinghouse or the fax gateway would.
    async fn put(&self, function: &str, key: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        aws_sdk_s3::Client::new(&self.sdk)
            .put_object()
            .bucket(self.bucket_of(function)?)
            .key(key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .with_context(|| format!("put {key}"))?;
        Ok(())
    }

    async fn object_exists(&self, function: &str, key: &str) -> anyhow::Result<bool> {
        let listed = aws_sdk_s3::Client::new(&self.sdk)
            .list_objects_v2()
            .bucket(self.bucket_of(function)?)
            .prefix(key)
            .send()
            .await?;
        Ok(listed.contents().iter().any(|o| o.key() == Some(key)))
    }

    /// The upload the API handed out, done as a portal does it: exactly the
    /// URL, method and headers given. Returns the object's key.
    async fn presigned_put(&self, slot: &Value, bytes: Vec<u8>) -> anyhow::Result<String> {
        let upload = &slot["upload"];
        let url = upload["url"].as_str().context("upload url")?;
        ensure!(
            upload["method"] == "PUT",
            "upload method {}",
            upload["method"]
        );
        let mut request = reqwest::Client::builder().no_proxy().build()?.put(url);
        for (name, value) in upload["headers"].as_object().into_iter().flatten() {
            request = request.header(name.as_str(), value.as_str().unwrap_or_default());
        }
        let status = request.body(bytes).send().await?.status();
        ensure!(status.is_success(), "the presigned PUT answered {status}");
        // The only object of the documents bucket so far: the URL pointed there.
        let listed = aws_sdk_s3::Client::new(&self.sdk)
            .list_objects_v2()
            .bucket(self.bucket_of("documents-verify")?)
            .send()
            .await?;
        let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
        ensure!(
            keys.len() == 1,
            "the documents bucket holds {keys:?}, expected the upload"
        );
        Ok(keys[0].to_string())
    }

    /// S3's notification of `key`, shaped as the sample: the sample must name
    /// the bucket the function's event source names, and the key must pass its
    /// prefix filter, or no notification would ever reach the function.
    async fn s3(&self, function: &str, name: &str, now: &str, key: &str) -> anyhow::Result<Value> {
        let mut event = sample(function, name)?;
        let sources = self.sources(function, "S3", "Bucket")?;
        let record = &mut event["Records"][0];
        let bucket = record["s3"]["bucket"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        ensure!(
            sources
                .iter()
                .any(|(b, prefix)| *b == bucket && key.starts_with(prefix.as_str())),
            "events/{function}/{name}: no S3 event source of {function} delivers {bucket}/{key} (sources: {sources:?})"
        );
        let head = aws_sdk_s3::Client::new(&self.sdk)
            .head_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .with_context(|| format!("{bucket}/{key} is not there"))?;
        record["s3"]["object"]["key"] = json!(mso_api::s3_event::encode_key(key));
        record["s3"]["object"]["size"] = json!(head.content_length().unwrap_or_default());
        self.invoke(function, &event, now).await
    }

    /// Lambda's SQS event source: a batch from each queue the function's event
    /// sources name, handed over in the sample's shape; the messages it did not
    /// report failed are deleted. Returns how many were handled.
    async fn sqs(&self, function: &str, now: &str) -> anyhow::Result<usize> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        let shape = std::fs::read_dir(repo(&format!("events/{function}")))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "json"))
            .context("no SQS sample")?;
        let shape: Value = serde_json::from_str(&std::fs::read_to_string(shape)?)?;
        let mut handled = 0;
        for (arn, _) in self.sources(function, "SQS", "Queue")? {
            let url = self
                .queue_urls
                .get(&arn)
                .with_context(|| format!("no queue {arn}"))?;
            let batch = sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await?;
            if batch.messages().is_empty() {
                continue;
            }
            let records: Vec<Value> = batch
                .messages()
                .iter()
                .map(|m| {
                    let mut record = shape["Records"][0].clone();
                    record["messageId"] = json!(m.message_id());
                    record["receiptHandle"] = json!(m.receipt_handle());
                    record["body"] = json!(m.body());
                    record["eventSourceARN"] = json!(arn);
                    record
                })
                .collect();
            let answer = self
                .invoke(function, &json!({ "Records": records }), now)
                .await?;
            let failed: Vec<&str> = answer["batchItemFailures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["itemIdentifier"].as_str())
                .collect();
            ensure!(
                failed.is_empty(),
                "{function} failed messages {failed:?} of {arn}"
            );
            for m in batch.messages() {
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await?;
                handled += 1;
            }
        }
        Ok(handled)
    }

    /// The keys of the outbox rows in the table: what the table's stream
    /// reports as inserted (the relay removes each row it sends).
    async fn outbox(&self) -> anyhow::Result<Vec<(String, String)>> {
        let scan = aws_sdk_dynamodb::Client::new(&self.sdk)
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(pk, :outbox)")
            .expression_attribute_values(
                ":outbox",
                ddb::AttributeValue::S(mso_store::keys::OUTBOX_PARTITION_PREFIX.into()),
            )
            .consistent_read(true)
            .send()
            .await?;
        let text = |item: &HashMap<String, ddb::AttributeValue>, name: &str| {
            item.get(name)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        Ok(scan
            .items()
            .iter()
            .map(|item| (text(item, "pk"), text(item, "sk")))
            .collect())
    }

    /// Lambda's DynamoDB stream event source: the outbox rows inserted so far,
    /// each in the sample's shape, handed over if the source's filter passes an
    /// INSERT of its key. Returns how many the function relayed.
    async fn stream(&self, function: &str, now: &str) -> anyhow::Result<usize> {
        let resource = &self.stack.template["Resources"][function_resource(function).as_str()];
        let source = resource["Properties"]["Events"]
            .as_hash()
            .into_iter()
            .flatten()
            .map(|(_, e)| e)
            .find(|e| e["Type"].as_str() == Some("DynamoDB"))
            .with_context(|| format!("{function} has no DynamoDB stream event source"))?;
        let stream = self
            .stack
            .resolve(&source["Properties"]["Stream"])
            .map_err(anyhow::Error::msg)?;
        ensure!(
            stream == self.stream_arn,
            "{function} reads {stream}, not the table's stream"
        );
        let patterns: Vec<Value> = source["Properties"]["FilterCriteria"]["Filters"]
            .as_vec()
            .into_iter()
            .flatten()
            .map(|f| serde_json::from_str(f["Pattern"].as_str().unwrap_or_default()))
            .collect::<Result<_, _>>()?;
        let shape = sample(function, "auth-event-stored.json")?;
        let mut records = Vec::new();
        for (n, (pk, sk)) in self.outbox().await?.into_iter().enumerate() {
            let mut record = shape["Records"][0].clone();
            record["eventName"] = json!("INSERT");
            record["eventID"] = json!(format!("smoke-{n}"));
            record["eventSourceARN"] = json!(stream);
            record["dynamodb"]["Keys"] = json!({"pk": {"S": pk}, "sk": {"S": sk}});
            record["dynamodb"]["SequenceNumber"] = json!(format!("{}", 100 + n));
            ensure!(
                patterns.iter().any(|p| passes(p, &record)),
                "{function}'s stream filter does not pass the outbox row {pk}"
            );
            records.push(record);
        }
        if records.is_empty() {
            return Ok(0);
        }
        let count = records.len();
        let answer = self
            .invoke(function, &json!({ "Records": records }), now)
            .await?;
        let failed = answer["batchItemFailures"].as_array().map_or(0, Vec::len);
        ensure!(failed == 0, "{function} failed records: {answer}");
        Ok(count)
    }

    /// The schedule's event: the function must have a schedule in the template.
    async fn scheduled(&self, function: &str, now: &str) -> anyhow::Result<Value> {
        let resource = &self.stack.template["Resources"][function_resource(function).as_str()];
        let scheduled = resource["Properties"]["Events"]
            .as_hash()
            .into_iter()
            .flatten()
            .any(|(_, e)| matches!(e["Type"].as_str(), Some("Schedule" | "ScheduleV2")));
        ensure!(scheduled, "{function} has no schedule in the template");
        self.invoke(function, &sample(function, "scheduled.json")?, now)
            .await
    }
}

/// Whether a Lambda event filter `pattern` passes `event`: every field the
/// pattern names must match one of its values, where a value is a literal or
/// `{"prefix": ..}` (what the template's filters use).
fn passes(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields
            .iter()
            .all(|(name, inner)| passes(inner, &event[name.as_str()])),
        Value::Array(options) => options.iter().any(|option| match option {
            Value::Object(rule) => match (rule.get("prefix"), event.as_str()) {
                (Some(Value::String(prefix)), Some(value)) => value.starts_with(prefix.as_str()),
                _ => false,
            },
            literal => literal == event,
        }),
        _ => false,
    }
}

/// The table as the template declares it: its name, keys, indexes and stream.
/// Returns its name and its stream's ARN.
async fn create_table(
    stack: &Stack,
    sdk: &SdkConfig,
    props: &Yaml,
) -> anyhow::Result<(String, String)> {
    let name = stack
        .resolve(&props["TableName"])
        .map_err(anyhow::Error::msg)?;
    let text = |y: &Yaml| y.as_str().unwrap_or_default().to_string();
    let keys = |schema: &Yaml| -> anyhow::Result<Vec<ddb::KeySchemaElement>> {
        schema
            .as_vec()
            .into_iter()
            .flatten()
            .map(|k| {
                Ok(ddb::KeySchemaElement::builder()
                    .attribute_name(text(&k["AttributeName"]))
                    .key_type(ddb::KeyType::from(text(&k["KeyType"]).as_str()))
                    .build()?)
            })
            .collect()
    };
    let mut request = aws_sdk_dynamodb::Client::new(sdk)
        .create_table()
        .table_name(&name)
        .billing_mode(ddb::BillingMode::PayPerRequest)
        .set_key_schema(Some(keys(&props["KeySchema"])?));
    for attribute in props["AttributeDefinitions"].as_vec().into_iter().flatten() {
        request = request.attribute_definitions(
            ddb::AttributeDefinition::builder()
                .attribute_name(text(&attribute["AttributeName"]))
                .attribute_type(ddb::ScalarAttributeType::from(
                    text(&attribute["AttributeType"]).as_str(),
                ))
                .build()?,
        );
    }
    for index in props["GlobalSecondaryIndexes"]
        .as_vec()
        .into_iter()
        .flatten()
    {
        request = request.global_secondary_indexes(
            ddb::GlobalSecondaryIndex::builder()
                .index_name(text(&index["IndexName"]))
                .set_key_schema(Some(keys(&index["KeySchema"])?))
                .projection(
                    ddb::Projection::builder()
                        .projection_type(ddb::ProjectionType::from(
                            text(&index["Projection"]["ProjectionType"]).as_str(),
                        ))
                        .build(),
                )
                .build()?,
        );
    }
    let view = text(&props["StreamSpecification"]["StreamViewType"]);
    ensure!(
        !view.is_empty(),
        "the table has no stream: the outbox relay needs it"
    );
    request = request.stream_specification(
        ddb::StreamSpecification::builder()
            .stream_enabled(true)
            .stream_view_type(ddb::StreamViewType::from(view.as_str()))
            .build()?,
    );
    let created = request
        .send()
        .await
        .with_context(|| format!("table {name}"))?;
    let stream = created
        .table_description()
        .and_then(|t| t.latest_stream_arn())
        .context("moto gave the table no stream")?
        .to_string();
    Ok((name, stream))
}

/// Every queue, dead-letter queues first (a queue's redrive policy names its
/// DLQ's ARN), with the template's visibility timeout and redrive policy.
async fn create_queues(
    stack: &mut Stack,
    sdk: &SdkConfig,
) -> anyhow::Result<HashMap<String, String>> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut urls = HashMap::new();
    let mut pending = stack.resources("AWS::SQS::Queue");
    while !pending.is_empty() {
        let mut waiting = Vec::new();
        let before = pending.len();
        for (logical, queue) in std::mem::take(&mut pending) {
            let props = &queue["Properties"];
            let redrive = &props["RedrivePolicy"];
            let dlq = if redrive.is_badvalue() {
                None
            } else {
                match stack.resolve(&redrive["deadLetterTargetArn"]) {
                    Ok(arn) => Some((
                        arn,
                        stack
                            .resolve(&redrive["maxReceiveCount"])
                            .map_err(anyhow::Error::msg)?,
                    )),
                    Err(_) => {
                        waiting.push((logical, queue));
                        continue;
                    }
                }
            };
            let name = stack
                .resolve(&props["QueueName"])
                .map_err(anyhow::Error::msg)?;
            let mut request = sqs.create_queue().queue_name(&name);
            if let Ok(timeout) = stack.resolve(&props["VisibilityTimeout"]) {
                request = request.attributes(QueueAttributeName::VisibilityTimeout, timeout);
            }
            if let Some((arn, max)) = dlq {
                let policy = json!({"deadLetterTargetArn": arn, "maxReceiveCount": max});
                request = request.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
            }
            let url = request.send().await?.queue_url.context("queue url")?;
            let arn = sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
                .await?
                .attributes
                .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
                .context("queue arn")?;
            stack.set_att(&logical, "Arn", &arn);
            stack.set_att(&logical, "QueueName", &name);
            stack.set_ref(&logical, &url);
            urls.insert(arn, url);
        }
        ensure!(
            waiting.len() < before,
            "queues whose dead-letter queue the template does not create: {:?}",
            waiting.iter().map(|(l, _)| l).collect::<Vec<_>>()
        );
        pending = waiting;
    }
    Ok(urls)
}

/// The function's side: what its main does, on one event.
mod lambda {
    use super::*;

    pub async fn invoke(function: &str) -> anyhow::Result<Value> {
        let path = std::env::var(EVENT_VAR)?;
        let event = std::fs::read_to_string(path)?;
        let now: jiff::Timestamp = std::env::var(NOW_VAR)?.parse()?;
        let clock = Arc::new(FixedClock::new(now));
        let http = |event: &str| mso_api::lambda_http::request::from_str(event);
        let answer = |resp: mso_api::Response<mso_api::Body>| -> Value {
            let body: Value = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
            json!({"status": resp.status().as_u16(), "body": body})
        };
        Ok(match function {
            "eligibility" => {
                let mut deps = eligibility::aws_deps().context("cold start")?;
                deps.clock = clock;
                answer(eligibility::handle(&deps, http(&event)?).await)
            }
            "prior-auth" | "prior-auth-sweeper" => {
                let mut deps = if function == "prior-auth" {
                    prior_auth::aws_deps()
                } else {
                    prior_auth::aws_sweeper_deps()
                }
                .context("cold start")?;
                deps.clock = clock;
                if function == "prior-auth" {
                    answer(prior_auth::handle(&deps, http(&event)?).await)
                } else {
                    json!(prior_auth::sweeper::sweep(&deps, now).await?)
                }
            }
            "documents" | "documents-verify" => {
                let mut deps = documents::aws_deps().context("cold start")?;
                deps.clock = clock;
                if function == "documents" {
                    answer(documents::handle(&deps, http(&event)?).await)
                } else {
                    json!(documents::verify::handle(&deps, serde_json::from_str(&event)?).await?)
                }
            }
            "claims" | "claims-s3" | "claims-edits" | "claims-sweeper" => {
                let mut deps = if function == "claims-sweeper" {
                    claims::aws_sweeper_deps()
                } else {
                    claims::aws_deps()
                }
                .context("cold start")?;
                deps.clock = clock;
                match function {
                    "claims" => answer(claims::handle(&deps, http(&event)?).await),
                    "claims-s3" => {
                        json!(claims::intake::handle(&deps, serde_json::from_str(&event)?).await?)
                    }
                    "claims-edits" => {
                        json!(claims::edits::handle(&deps, serde_json::from_str(&event)?).await)
                    }
                    _ => json!(claims::sweeper::sweep(&deps, now).await?),
                }
            }
            "disputes" | "disputes-sweeper" => {
                let mut deps = if function == "disputes" {
                    disputes::aws_deps()
                } else {
                    disputes::aws_sweeper_deps()
                }
                .context("cold start")?;
                deps.clock = clock;
                if function == "disputes" {
                    answer(disputes::handle(&deps, http(&event)?).await)
                } else {
                    json!(disputes::sweeper::sweep(&deps, now).await?)
                }
            }
            "outbox-relay" => {
                let deps = outbox_relay::aws_deps().context("cold start")?;
                json!(outbox_relay::handle(&deps, serde_json::from_str(&event)?).await)
            }
            "intake" | "intake-s3" => {
                let mut deps = intake::aws_deps().context("cold start")?;
                deps.clock = clock;
                if function == "intake" {
                    answer(intake::handle(&deps, http(&event)?).await)
                } else {
                    json!(intake::ingest::handle(&deps, serde_json::from_str(&event)?).await?)
                }
            }
            other => bail!("no function {other}"),
        })
    }
}
