//! `RecordStore` over one DynamoDB table. Attribute names are fixed: the SAM
//! template declares them.
//!
//! | attribute            | type | role                                   |
//! |----------------------|------|----------------------------------------|
//! | `pk`, `sk`           | S    | hash and range key                     |
//! | `gsi1pk`, `gsi1sk`   | S    | keys of the GSI `gsi1` (projection ALL)|
//! | `version`            | N    | optimistic-concurrency version         |
//! | `expires_at`         | N    | the table's TTL attribute              |
//! | `body`               | M    | the JSON body, through `serde_dynamo`  |

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, DeleteRequest,
    GlobalSecondaryIndex, KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType,
    Put, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TransactWriteItem, WriteRequest,
};
use aws_types::SdkConfig;

use super::error::{classify, is_retryable_code};
use crate::record::{check_get_many, check_transaction};
use crate::{
    Body, Condition, CursorKey, Index, Key, Page, PutOutcome, Query, Record, RecordStore,
    StoreError, WriteOp, cursor,
};

/// How many times a batch request (`get_many`, `delete_many_lazy`) asks again
/// for the items DynamoDB left unprocessed.
const UNPROCESSED_RETRIES: u32 = 5;
/// Items in one `BatchWriteItem`.
const MAX_BATCH_WRITE: usize = 25;

const PK: &str = "pk";
const SK: &str = "sk";
const GSI1: &str = "gsi1";
const GSI1_PK: &str = "gsi1pk";
const GSI1_SK: &str = "gsi1sk";
const VERSION: &str = "version";
const EXPIRES_AT: &str = "expires_at";
const BODY: &str = "body";

type Item = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoRecordStore {
    client: Client,
    table: String,
    cursor_key: CursorKey,
}

impl DynamoRecordStore {
    /// The record key of a DynamoDB stream record's `Keys` (as Lambda delivers
    /// them: `{"pk": {"S": ..}, "sk": {"S": ..}}`); `None` when either is
    /// missing or not a string (no item of this table).
    pub fn key_of_stream_record(
        keys: &HashMap<String, serde_dynamo::AttributeValue>,
    ) -> Option<Key> {
        let text = |name| match keys.get(name) {
            Some(serde_dynamo::AttributeValue::S(s)) => Some(s.clone()),
            _ => None,
        };
        Some(Key::new(text(PK)?, text(SK)?))
    }

    /// A store over `table`, with a client built from `sdk` (see [`super::sdk_config`]).
    /// Every function of a stack gets the same `cursor_key` (`CURSOR_KEY`), so a
    /// paging cursor from one instance works on another.
    pub fn new(sdk: &SdkConfig, table: impl Into<String>, cursor_key: CursorKey) -> Self {
        Self::from_client(Client::new(sdk), table, cursor_key)
    }

    pub fn from_client(client: Client, table: impl Into<String>, cursor_key: CursorKey) -> Self {
        DynamoRecordStore {
            client,
            table: table.into(),
            cursor_key,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

fn key_item(key: &Key) -> Item {
    HashMap::from([(PK.to_string(), s(&key.pk)), (SK.to_string(), s(&key.sk))])
}

/// A record's body is kept as its JSON text, in one string attribute. As a
/// DynamoDB map, every read built a tree of the SDK's attribute maps (a hashed
/// map per JSON object) and converted it to JSON again: a fifth of the
/// instructions of a claim's judgement, counted on its cold start. Nothing
/// names a body's fields in an expression, which a map would allow. A body
/// stored as a map by an earlier build still reads.
fn to_item(record: &Record) -> Result<Item, StoreError> {
    let body = AttributeValue::S(record.body.as_json().to_owned());
    let mut item = key_item(&record.key);
    item.insert(
        VERSION.to_string(),
        AttributeValue::N(record.version.to_string()),
    );
    item.insert(BODY.to_string(), body);
    if let Some(at) = record.expires_at {
        item.insert(EXPIRES_AT.to_string(), AttributeValue::N(at.to_string()));
    }
    if let Some(index) = &record.index_key {
        item.insert(GSI1_PK.to_string(), s(&index.pk));
        item.insert(GSI1_SK.to_string(), s(&index.sk));
    }
    Ok(item)
}

/// Why an item read from the table is not a record of this layout.
#[derive(Debug, thiserror::Error)]
enum ItemError {
    #[error("attribute `{0}` is missing or has the wrong type")]
    Attribute(&'static str),
    #[error("attribute `body` does not convert to JSON")]
    Map(#[from] serde_dynamo::Error),
}

fn from_item(mut item: Item) -> Result<Record, StoreError> {
    let parse = |item: &mut Item| -> Result<Record, ItemError> {
        let string = |item: &mut Item, name: &'static str| match item.remove(name) {
            Some(AttributeValue::S(v)) => Ok(Some(v)),
            None => Ok(None),
            Some(_) => Err(ItemError::Attribute(name)),
        };
        let number = |item: &Item, name: &'static str| match item.get(name) {
            Some(AttributeValue::N(n)) => Ok(Some(n.clone())),
            None => Ok(None),
            Some(_) => Err(ItemError::Attribute(name)),
        };
        let pk = string(item, PK)?.ok_or(ItemError::Attribute(PK))?;
        let sk = string(item, SK)?.ok_or(ItemError::Attribute(SK))?;
        let version = number(item, VERSION)?
            .ok_or(ItemError::Attribute(VERSION))?
            .parse()
            .map_err(|_| ItemError::Attribute(VERSION))?;
        let expires_at = match number(item, EXPIRES_AT)? {
            Some(n) => Some(n.parse().map_err(|_| ItemError::Attribute(EXPIRES_AT))?),
            None => None,
        };
        let index_key = match (string(item, GSI1_PK)?, string(item, GSI1_SK)?) {
            (Some(pk), Some(sk)) => Some(Key::new(pk, sk)),
            _ => None,
        };
        let body = match item.remove(BODY) {
            // Read as stored: the reader's decode is its check.
            Some(AttributeValue::S(text)) => Body::stored(text),
            Some(map) => serde_dynamo::from_attribute_value::<_, serde_json::Value>(map)?.into(),
            None => serde_json::Value::Null.into(),
        };
        Ok(Record {
            key: Key::new(pk, sk),
            index_key,
            version,
            expires_at,
            body,
        })
    };
    parse(&mut item).map_err(|e| StoreError::backend("decode DynamoDB item", e))
}

/// A condition expression with its placeholders. Only placeholders the
/// expression uses are sent: DynamoDB rejects unused ones.
#[derive(Debug, Default, PartialEq)]
struct Expression {
    text: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn condition_expression(condition: &Condition) -> Option<Expression> {
    let name =
        |placeholder: &str, attribute: &str| (placeholder.to_string(), attribute.to_string());
    let number = |placeholder: &str, n: String| (placeholder.to_string(), AttributeValue::N(n));
    Some(match condition {
        Condition::None => return None,
        Condition::Absent => Expression {
            text: "attribute_not_exists(#pk)".into(),
            names: HashMap::from([name("#pk", PK)]),
            values: HashMap::new(),
        },
        Condition::AbsentOrExpired { now } => Expression {
            text: "attribute_not_exists(#pk) OR #exp <= :now".into(),
            names: HashMap::from([name("#pk", PK), name("#exp", EXPIRES_AT)]),
            values: HashMap::from([number(":now", now.to_string())]),
        },
        Condition::VersionIs(v) => Expression {
            text: "#ver = :ver".into(),
            names: HashMap::from([name("#ver", VERSION)]),
            values: HashMap::from([number(":ver", v.to_string())]),
        },
    })
}

/// Condition expression, attribute names and attribute values, as the request
/// builders' `set_*` methods take them.
type ExpressionParts = (
    Option<String>,
    Option<HashMap<String, String>>,
    Option<HashMap<String, AttributeValue>>,
);

/// Splits an optional expression into the three builder arguments.
fn parts(expression: Option<Expression>) -> ExpressionParts {
    match expression {
        None => (None, None, None),
        Some(e) => {
            let values = (!e.values.is_empty()).then_some(e.values);
            (Some(e.text), Some(e.names), values)
        }
    }
}

/// Each key of `keys` once, in order: a batch request (`BatchGetItem`,
/// `BatchWriteItem`) refuses a key named twice.
fn distinct(keys: &[Key]) -> Vec<&Key> {
    let mut distinct: Vec<&Key> = keys.iter().collect();
    distinct.sort();
    distinct.dedup();
    distinct
}

/// Before `attempt` (counted from 0) of a batch request for what DynamoDB
/// left unprocessed (throughput): a pause, as its documentation asks, and an
/// error once the bounded retries are spent.
async fn pause_before_retry(attempt: u32, context: &'static str) -> Result<(), StoreError> {
    if attempt > UNPROCESSED_RETRIES {
        return Err(StoreError::unavailable(
            context,
            "items left unprocessed after retries",
        ));
    }
    if attempt > 0 {
        tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
    }
    Ok(())
}

fn build_error(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::backend("build DynamoDB request", e)
}

/// The answer to a single conditional write (PutItem, DeleteItem): its
/// condition failing is [`StoreError::ConditionFailed`], the rest classified.
fn conditional_write<T, E>(
    context: &'static str,
    result: Result<T, SdkError<E, HttpResponse>>,
    condition_failed: fn(&E) -> bool,
) -> Result<(), StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(condition_failed) => {
            Err(StoreError::ConditionFailed)
        }
        Err(e) => Err(classify(context, e)),
    }
}

impl DynamoRecordStore {
    /// PutItem of `record` under `condition`, ready to send.
    fn put_item(
        &self,
        record: &Record,
        condition: &Condition,
    ) -> Result<PutItemFluentBuilder, StoreError> {
        let (text, names, values) = parts(condition_expression(condition));
        Ok(self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(record)?))
            .set_condition_expression(text)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values))
    }

    /// DeleteItem under `condition`.
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        let (text, names, values) = parts(condition_expression(&condition));
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .set_condition_expression(text)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await;
        conditional_write(
            "DynamoDB DeleteItem",
            result,
            DeleteItemError::is_conditional_check_failed_exception,
        )
    }

    fn transact_item(&self, op: WriteOp) -> Result<Option<TransactWriteItem>, StoreError> {
        Ok(Some(match op {
            WriteOp::Put { record, condition } => {
                let (text, names, values) = parts(condition_expression(&condition));
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(to_item(&record)?))
                    .set_condition_expression(text)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(build_error)?;
                TransactWriteItem::builder().put(put).build()
            }
            WriteOp::Delete { key, condition } => {
                let (text, names, values) = parts(condition_expression(&condition));
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_item(&key)))
                    .set_condition_expression(text)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(build_error)?;
                TransactWriteItem::builder().delete(delete).build()
            }
            WriteOp::Check { key, condition } => {
                // A check without a condition always holds: nothing to send.
                let Some(expression) = condition_expression(&condition) else {
                    return Ok(None);
                };
                let (text, names, values) = parts(Some(expression));
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_item(&key)))
                    .set_condition_expression(text)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(build_error)?;
                TransactWriteItem::builder().condition_check(check).build()
            }
        }))
    }
}

impl DynamoRecordStore {
    /// One `BatchWriteItem` of deletes, and its retries of what DynamoDB left
    /// unprocessed.
    async fn delete_batch(&self, keys: &[&Key]) -> Result<(), StoreError> {
        let mut pending = keys
            .iter()
            .map(|key| {
                let delete = DeleteRequest::builder()
                    .set_key(Some(key_item(key)))
                    .build()
                    .map_err(build_error)?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut attempt = 0;
        while !pending.is_empty() {
            pause_before_retry(attempt, "DynamoDB BatchWriteItem").await?;
            attempt += 1;
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table, std::mem::take(&mut pending))
                .send()
                .await
                .map_err(|e| classify("DynamoDB BatchWriteItem", e))?;
            pending = output
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.table))
                .unwrap_or_default();
        }
        Ok(())
    }
}

#[async_trait]
impl RecordStore for DynamoRecordStore {
    async fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            // Conditional-write workflows read their own writes, as the embedded store does.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("DynamoDB GetItem", e))?;
        output.item.map(from_item).transpose()
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StoreError> {
        check_get_many(keys)?;
        let distinct = distinct(keys);
        if let [only] = distinct[..] {
            // One item: GetItem, the request every caller's first read already
            // makes, answers it without BatchGetItem's own request and response.
            let record = self.get(only).await?;
            return Ok(vec![record; keys.len()]);
        }
        let mut pending: Vec<Item> = distinct.into_iter().map(key_item).collect();
        let mut found: HashMap<Key, Record> = HashMap::with_capacity(pending.len());
        let mut attempt = 0;
        while !pending.is_empty() {
            pause_before_retry(attempt, "DynamoDB BatchGetItem").await?;
            attempt += 1;
            let wanted = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(build_error)?;
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.table, wanted)
                .send()
                .await
                .map_err(|e| classify("DynamoDB BatchGetItem", e))?;
            for item in output
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default()
            {
                let record = from_item(item)?;
                found.insert(record.key.clone(), record);
            }
            pending = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
        }
        Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
    }

    /// `BatchWriteItem`, 25 keys a request, the requests sent together; one
    /// key is the one request `delete_lazy` makes.
    async fn delete_many_lazy(&self, keys: &[Key]) -> Result<(), StoreError> {
        let distinct = distinct(keys);
        if let [only] = distinct[..] {
            return self.delete_lazy(only).await;
        }
        let batches = distinct
            .chunks(MAX_BATCH_WRITE)
            .map(|batch| self.delete_batch(batch));
        futures_util::future::try_join_all(batches).await?;
        Ok(())
    }

    async fn put(&self, record: Record, condition: Condition) -> Result<(), StoreError> {
        let result = self.put_item(&record, &condition)?.send().await;
        conditional_write(
            "DynamoDB PutItem",
            result,
            PutItemError::is_conditional_check_failed_exception,
        )
    }

    async fn put_lazy_or_get(
        &self,
        record: Record,
        condition: Condition,
    ) -> Result<PutOutcome, StoreError> {
        let result = self
            .put_item(&record, &condition)?
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(PutOutcome::Written),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => Ok(
                    PutOutcome::Refused(failed.item.clone().map(from_item).transpose()?),
                ),
                _ => Err(classify("DynamoDB PutItem", e)),
            },
        }
    }

    async fn transact(&self, mut ops: Vec<WriteOp>) -> Result<(), StoreError> {
        check_transaction(&ops)?;
        // A transaction of one write is that write, as atomic without the
        // transaction's two phases, and billed half the write units (an outbox
        // event's removal, a record created alone).
        if ops.len() == 1 {
            match ops.pop() {
                Some(WriteOp::Put { record, condition }) => {
                    return self.put(record, condition).await;
                }
                Some(WriteOp::Delete { key, condition }) => {
                    return self.delete(&key, condition).await;
                }
                other => ops.extend(other),
            }
        }
        let mut items = Vec::with_capacity(ops.len());
        for op in ops {
            items.extend(self.transact_item(op)?);
        }
        if items.is_empty() {
            return Ok(());
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let Err(e) = result else { return Ok(()) };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            e.as_service_error()
        {
            let codes: Vec<Option<&str>> = cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| r.code())
                .collect();
            if codes.contains(&Some("ConditionalCheckFailed")) {
                return Err(StoreError::ConditionFailed);
            }
            // Conflicts with concurrent transactions and capacity shortfalls pass.
            let transient = [
                "TransactionConflict",
                "ThrottlingError",
                "ProvisionedThroughputExceeded",
            ];
            if codes
                .iter()
                .any(|c| c.is_some_and(|c| transient.contains(&c)) || is_retryable_code(*c))
            {
                return Err(StoreError::unavailable("DynamoDB TransactWriteItems", e));
            }
        }
        Err(classify("DynamoDB TransactWriteItems", e))
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let (index, pk_attr, sk_attr) = match query.index {
            Index::Primary => (None, PK, SK),
            Index::Gsi1 => (Some(GSI1), GSI1_PK, GSI1_SK),
        };
        let mut names = HashMap::from([("#pk".to_string(), pk_attr.to_string())]);
        let mut values = HashMap::from([(":pk".to_string(), s(&query.pk))]);
        let mut key_condition = "#pk = :pk".to_string();
        if let Some((from, to)) = &query.sk_between {
            names.insert("#sk".to_string(), sk_attr.to_string());
            values.insert(":to".to_string(), s(to));
            // DynamoDB refuses an empty string in a key condition: a range open
            // at the start is `<=` the end.
            if from.is_empty() {
                key_condition.push_str(" AND #sk <= :to");
            } else {
                key_condition.push_str(" AND #sk BETWEEN :from AND :to");
                values.insert(":from".to_string(), s(from));
            }
        } else if !query.sk_prefix.is_empty() {
            key_condition.push_str(" AND begins_with(#sk, :prefix)");
            names.insert("#sk".to_string(), sk_attr.to_string());
            values.insert(":prefix".to_string(), s(&query.sk_prefix));
        }
        let start = match &query.cursor {
            Some(c) => {
                let key: BTreeMap<String, String> = cursor::open(&self.cursor_key, &query, c)?;
                Some(
                    key.into_iter()
                        .map(|(name, value)| (name, AttributeValue::S(value)))
                        .collect::<Item>(),
                )
            }
            None => None,
        };
        // DynamoDB rejects a limit of 0; read at least one, as the embedded store does.
        let limit = i32::try_from(query.limit.max(1)).unwrap_or(i32::MAX);
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_string))
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!query.descending)
            .limit(limit)
            .set_exclusive_start_key(start)
            // Strongly consistent on the table; a GSI only offers eventual consistency.
            .consistent_read(index.is_none())
            .send()
            .await
            .map_err(|e| classify("DynamoDB Query", e))?;
        let next = match output.last_evaluated_key {
            Some(key) if !key.is_empty() => {
                let key = key
                    .into_iter()
                    .map(|(name, value)| match value {
                        AttributeValue::S(v) => Ok((name, v)),
                        _ => Err(StoreError::backend(
                            "DynamoDB Query",
                            "non-string key in LastEvaluatedKey",
                        )),
                    })
                    .collect::<Result<BTreeMap<_, _>, _>>()?;
                Some(cursor::seal(&self.cursor_key, &query, &key)?)
            }
            _ => None,
        };
        let records = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok(Page { records, next })
    }
}

/// Creates `table` with exactly the layout this adapter uses (the SAM template's):
/// keys `pk`/`sk`, GSI `gsi1` on `gsi1pk`/`gsi1sk` projecting everything,
/// on-demand billing, TTL on `expires_at`. Waits until the table is active.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |name: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
    };
    let gsi1 = GlobalSecondaryIndex::builder()
        .index_name(GSI1)
        .key_schema(key(GSI1_PK, KeyType::Hash).map_err(build_error)?)
        .key_schema(key(GSI1_SK, KeyType::Range).map_err(build_error)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(build_error)?;
    let mut request = client
        .create_table()
        .table_name(table)
        .key_schema(key(PK, KeyType::Hash).map_err(build_error)?)
        .key_schema(key(SK, KeyType::Range).map_err(build_error)?)
        .global_secondary_indexes(gsi1)
        .billing_mode(BillingMode::PayPerRequest);
    for name in [PK, SK, GSI1_PK, GSI1_SK] {
        request = request.attribute_definitions(attribute(name).map_err(build_error)?);
    }
    request
        .send()
        .await
        .map_err(|e| classify("DynamoDB CreateTable", e))?;

    // Real DynamoDB takes a few seconds to create a table; TTL can only be set once it is active.
    let mut active = false;
    for _ in 0..120 {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| classify("DynamoDB DescribeTable", e))?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            active = true;
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    if !active {
        return Err(StoreError::backend(
            "DynamoDB CreateTable",
            "table did not become active within 2 minutes",
        ));
    }
    let ttl = TimeToLiveSpecification::builder()
        .attribute_name(EXPIRES_AT)
        .enabled(true)
        .build()
        .map_err(build_error)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(|e| classify("DynamoDB UpdateTimeToLive", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn item_round_trip() {
        let record = Record::new(
            Key::new("P#1", "S"),
            json!({"a": [1, 2.5, "x", null, true], "b": {}}),
        )
        .with_index(Key::new("G", "H"))
        .with_version(7)
        .with_expiry(1_700_000_000);
        let item = to_item(&record).unwrap();
        assert_eq!(
            item.get(BODY),
            Some(&AttributeValue::S(
                r#"{"a":[1,2.5,"x",null,true],"b":{}}"#.into()
            ))
        );
        assert_eq!(
            item.get(EXPIRES_AT),
            Some(&AttributeValue::N("1700000000".into()))
        );
        assert_eq!(from_item(item).unwrap(), record);
        assert!(from_item(HashMap::from([(PK.to_string(), s("x"))])).is_err());
    }

    /// Items an earlier build wrote, with the body as a DynamoDB map, read as
    /// they did; a body that is neither JSON text nor a map is refused.
    #[test]
    fn a_body_stored_as_a_map_still_reads() {
        let record = Record::new(
            Key::new("P#1", "S"),
            json!({"a": [1, "x"], "b": {"c": null}}),
        );
        let mut item = to_item(&record).unwrap();
        let map: AttributeValue =
            serde_dynamo::to_attribute_value(record.body.to_value().unwrap()).unwrap();
        assert!(matches!(map, AttributeValue::M(_)));
        item.insert(BODY.to_string(), map);
        assert_eq!(from_item(item.clone()).unwrap(), record);
        // Text is read as stored; a body that is not JSON fails its decode.
        item.insert(BODY.to_string(), s("{not json"));
        let corrupt = from_item(item).unwrap();
        assert!(corrupt.body.decode::<serde_json::Value>().is_err());
    }

    #[test]
    fn expressions_only_name_what_they_use() {
        assert_eq!(condition_expression(&Condition::None), None);
        let e = condition_expression(&Condition::AbsentOrExpired { now: 5 }).unwrap();
        assert_eq!(e.text, "attribute_not_exists(#pk) OR #exp <= :now");
        assert_eq!(e.values.get(":now"), Some(&AttributeValue::N("5".into())));
        let (_, names, values) = parts(condition_expression(&Condition::Absent));
        assert_eq!(names.unwrap().len(), 1);
        assert!(values.is_none());
    }

    /// What moto never does: DynamoDB leaving keys of a `BatchGetItem`
    /// unprocessed. Here DynamoDB is a script of answers (its documented wire
    /// format), and the requests the adapter sends are kept.
    mod unprocessed_keys {
        use std::collections::VecDeque;
        use std::sync::{Arc, Mutex};

        use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
        use aws_smithy_runtime_api::client::http::{
            HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings,
            SharedHttpConnector,
        };
        use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
        use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
        use aws_smithy_runtime_api::http::StatusCode;
        use aws_smithy_types::body::SdkBody;
        use serde_json::{Value, json};

        use super::*;

        const TABLE: &str = "t";

        #[derive(Debug, Default)]
        struct Script {
            answers: Mutex<VecDeque<Value>>,
            asked: Mutex<Vec<Value>>,
        }

        #[derive(Debug, Clone, Default)]
        struct Scripted(Arc<Script>);

        impl HttpConnector for Scripted {
            fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
                let body = request.body().bytes().unwrap_or_default();
                let asked = serde_json::from_slice(body).unwrap_or(Value::Null);
                self.0.asked.lock().unwrap().push(asked);
                let answer = self.0.answers.lock().unwrap().pop_front();
                let answer = answer.expect("the script has an answer for every request");
                let status = StatusCode::try_from(200).unwrap();
                let response = HttpResponse::new(status, SdkBody::from(answer.to_string()));
                HttpConnectorFuture::ready(Ok(response))
            }
        }

        impl HttpClient for Scripted {
            fn http_connector(
                &self,
                _: &HttpConnectorSettings,
                _: &RuntimeComponents,
            ) -> SharedHttpConnector {
                SharedHttpConnector::new(self.clone())
            }
        }

        fn store(answers: Vec<Value>) -> (DynamoRecordStore, Scripted) {
            let scripted = Scripted::default();
            scripted.0.answers.lock().unwrap().extend(answers);
            let config = aws_sdk_dynamodb::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-west-2"))
                .credentials_provider(Credentials::new("a", "b", None, None, "test"))
                .endpoint_url("http://dynamodb.invalid")
                .http_client(scripted.clone())
                .build();
            let cursor_key = CursorKey::from_secret(&[7; 32]).unwrap();
            let store =
                DynamoRecordStore::from_client(Client::from_conf(config), TABLE, cursor_key);
            (store, scripted)
        }

        /// An attribute value as DynamoDB's JSON protocol writes it.
        fn wire(value: &AttributeValue) -> Value {
            match value {
                AttributeValue::S(s) => json!({ "S": s }),
                AttributeValue::N(n) => json!({ "N": n }),
                AttributeValue::Bool(b) => json!({ "BOOL": b }),
                AttributeValue::Null(_) => json!({ "NULL": true }),
                AttributeValue::L(list) => {
                    json!({ "L": list.iter().map(wire).collect::<Vec<_>>() })
                }
                AttributeValue::M(map) => json!({ "M": wire_item(map) }),
                other => panic!("the adapter writes no {other:?}"),
            }
        }

        fn wire_item(item: &Item) -> Value {
            Value::Object(item.iter().map(|(k, v)| (k.clone(), wire(v))).collect())
        }

        fn record(pk: &str) -> Record {
            Record::new(Key::new(pk, "S"), json!({ "name": pk }))
        }

        fn answer(found: &[&Record], unprocessed: &[&Record]) -> Value {
            let found: Vec<Value> = found
                .iter()
                .map(|r| wire_item(&to_item(r).unwrap()))
                .collect();
            let mut answer = json!({ "Responses": { TABLE: found } });
            if !unprocessed.is_empty() {
                let keys: Vec<Value> = unprocessed
                    .iter()
                    .map(|r| wire_item(&key_item(&r.key)))
                    .collect();
                answer["UnprocessedKeys"] =
                    json!({ TABLE: { "Keys": keys, "ConsistentRead": true } });
            }
            answer
        }

        /// The keys a request asked for, by partition key.
        fn asked_for(request: &Value) -> Vec<String> {
            let mut pks: Vec<String> = request["RequestItems"][TABLE]["Keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k[PK]["S"].as_str().unwrap().to_string())
                .collect();
            pks.sort();
            pks
        }

        #[tokio::test]
        async fn are_asked_again_and_answered_in_order() {
            let (a, b, c) = (record("A"), record("B"), record("C"));
            // A first; B and C left over; then C (B does not exist).
            let (store, scripted) = store(vec![answer(&[&a], &[&b, &c]), answer(&[&c], &[])]);
            let keys = [a.key.clone(), b.key.clone(), c.key.clone(), a.key.clone()];
            let found = store.get_many(&keys).await.unwrap();
            assert_eq!(found, vec![Some(a.clone()), None, Some(c.clone()), Some(a)]);
            let asked = scripted.0.asked.lock().unwrap();
            assert_eq!(asked.len(), 2);
            assert_eq!(asked_for(&asked[0]), ["A", "B", "C"], "each key once");
            assert_eq!(asked_for(&asked[1]), ["B", "C"], "only what was left over");
            for request in asked.iter() {
                assert_eq!(request["RequestItems"][TABLE]["ConsistentRead"], true);
            }
        }

        /// Keys left over after every retry: unavailable, not a partial answer
        /// (the backoff between the six requests adds up to 1.55 s).
        #[tokio::test]
        async fn left_over_after_every_retry_are_unavailable() {
            let (a, b) = (record("A"), record("B"));
            let mut answers = vec![answer(&[&a], &[&b])];
            answers.extend((0..UNPROCESSED_RETRIES).map(|_| answer(&[], &[&b])));
            let (store, scripted) = store(answers);
            let result = store.get_many(&[a.key.clone(), b.key.clone()]).await;
            assert!(
                matches!(result, Err(StoreError::Unavailable { .. })),
                "{result:?}"
            );
            let asked = scripted.0.asked.lock().unwrap();
            assert_eq!(asked.len(), 1 + UNPROCESSED_RETRIES as usize);
            assert!(asked[1..].iter().all(|r| asked_for(r) == ["B"]));
        }
    }
}
