//! Keyset paging of every GraphQL connection: walking the pages of every ordering returns
//! every row once, in order (ties by id, NULLs last in both directions); rows written
//! between two pages neither repeat nor hide rows; cursors of another ordering, the old
//! offset cursors and garbage are refused with `BAD_USER_INPUT` and a message.

use crate::both_engines;
use crate::sample::run;
use crate::support::{TestApp, error_code, error_message};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, TimeZone, Utc};
use pangeo_forge_orchestrator::db::enums::{DatasetType, DeliveryState, RunConclusion, RunStatus};
use pangeo_forge_orchestrator::db::{NewBakery, NewDelivery, NewFeedstock, NewRecipeRun};
use serde_json::{Value, json};
use std::cmp::Ordering;
use std::collections::HashSet;

/// A connection of the schema and how to ask it for a page.
struct List {
    /// The query field, e.g. `recipeRuns`.
    field: &'static str,
    /// Its `orderBy` input type and the enum of its fields; `None` when it has one order.
    order: Option<(&'static str, &'static str)>,
    /// The node fields the orderings sort by (and `id`).
    selection: &'static str,
}

const LISTS: &[List] = &[
    List {
        field: "recipeRuns",
        order: Some(("RecipeRunOrder", "RecipeRunOrderField")),
        selection: "id recipeId bakeryId feedstockId headSha version startedAt completedAt \
                    conclusion status isTest datasetType datasetPublicUrl updatedAt",
    },
    List {
        field: "datasets",
        order: Some(("DatasetOrder", "DatasetOrderField")),
        selection: "id feedstockId recipeId createdAt",
    },
    List {
        field: "feedstocks",
        order: Some(("FeedstockOrder", "FeedstockOrderField")),
        selection: "id spec provider",
    },
    List {
        field: "bakeries",
        order: Some(("BakeryOrder", "BakeryOrderField")),
        selection: "id region name description",
    },
    List {
        field: "webhookDeliveries",
        order: None,
        selection: "id",
    },
];

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()
}

/// `DATASET_PUBLIC_URL` → `datasetPublicUrl`.
fn camel(screaming: &str) -> String {
    let mut out = String::new();
    for (i, word) in screaming.split('_').enumerate() {
        let word = word.to_lowercase();
        if i == 0 {
            out.push_str(&word);
        } else {
            let mut chars = word.chars();
            if let Some(c) = chars.next() {
                out.extend(c.to_uppercase());
                out.push_str(chars.as_str());
            }
        }
    }
    out
}

/// Compares two non-null sort keys as the database does: timestamps as instants, enums as
/// their stored (lowercase) text, numbers, booleans, text byte-wise.
fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_i64().cmp(&y.as_i64()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => {
            match (
                DateTime::parse_from_rfc3339(x),
                DateTime::parse_from_rfc3339(y),
            ) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                _ => x.to_lowercase().cmp(&y.to_lowercase()),
            }
        }
        _ => panic!("keys of different kinds: {a} and {b}"),
    }
}

/// The ids of `rows` in the documented order: by `key` (NULLs after every value, in both
/// directions), ties by id in the same direction.
fn expected_order(rows: &[Value], key: &str, desc: bool) -> Vec<i64> {
    let mut rows: Vec<&Value> = rows.iter().collect();
    rows.sort_by(|a, b| {
        let (ka, kb) = (&a[key], &b[key]);
        let by_key = match (ka.is_null(), kb.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            (false, false) => compare(ka, kb),
        };
        let order = by_key.then(a["id"].as_i64().cmp(&b["id"].as_i64()));
        if desc { order.reverse() } else { order }
    });
    rows.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// The page document for `list`, with or without `orderBy`.
fn page_query(list: &List) -> String {
    let (params, args) = match list.order {
        Some((input, _)) => (format!(", $orderBy: {input}"), ", orderBy: $orderBy"),
        None => (String::new(), ""),
    };
    format!(
        "query($first: Int, $after: String{params}) {{
            {field}(first: $first, after: $after{args}) {{
                totalCount
                edges {{ cursor node {{ {selection} }} }}
                pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
            }}
        }}",
        field = list.field,
        selection = list.selection,
    )
}

/// One page: the response's connection.
async fn page(app: &TestApp, list: &List, order: &Value, first: i64, after: &Value) -> Value {
    let variables = json!({"first": first, "after": after, "orderBy": order});
    app.data(&page_query(list), variables).await[list.field].clone()
}

/// Walks every page of `list` in `order`, `first` rows at a time, checking `pageInfo` on
/// each; returns the ids in the order they came.
async fn walk(app: &TestApp, list: &List, order: &Value, first: i64) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut after = Value::Null;
    let mut total = None;
    for pages in 0.. {
        assert!(pages < 1000, "{} {order}: the pages do not end", list.field);
        let connection = page(app, list, order, first, &after).await;
        let edges = connection["edges"].as_array().unwrap();
        let info = &connection["pageInfo"];
        assert_eq!(info["hasPreviousPage"], json!(!after.is_null()), "{order}");
        if let (Some(first_edge), Some(last_edge)) = (edges.first(), edges.last()) {
            assert_eq!(info["startCursor"], first_edge["cursor"]);
            assert_eq!(info["endCursor"], last_edge["cursor"]);
        } else {
            assert_eq!(info["endCursor"], Value::Null);
        }
        let count = connection["totalCount"].as_i64().unwrap();
        assert_eq!(
            *total.get_or_insert(count),
            count,
            "totalCount on every page"
        );
        ids.extend(edges.iter().map(|e| e["node"]["id"].as_i64().unwrap()));
        if info["hasNextPage"] == json!(false) {
            assert_eq!(
                ids.len() as i64,
                count,
                "{} {order}: totalCount",
                list.field
            );
            return ids;
        }
        assert_eq!(edges.len() as i64, first, "a page before the last is full");
        after = info["endCursor"].clone();
    }
    unreachable!()
}

/// The names of an enum type, by introspection (so a field added later is walked too).
async fn enum_values(app: &TestApp, name: &str) -> Vec<String> {
    let data = app
        .data(
            "query($name: String!) { __type(name: $name) { enumValues { name } } }",
            json!({"name": name}),
        )
        .await;
    data["__type"]["enumValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A run of `sample::run` with the fields the orderings sort by varied by `i`, with ties
/// (several runs share each value) and NULLs in every nullable column.
fn varied_run(i: usize, bakeries: &[i32], feedstocks: &[i32]) -> NewRecipeRun {
    let sha = format!("{:040x}", (i * 7) % 5);
    let mut new = run(
        ["ra", "rb", "rc"][i % 3],
        bakeries[i % bakeries.len()],
        feedstocks[i % feedstocks.len()],
        &sha,
    );
    new.version = ["", "1.0", "1.1", "2.0"][i % 4].into();
    new.started_at = Some(base() + Duration::minutes(((i * 13) % 6) as i64));
    new.is_test = i.is_multiple_of(2);
    let (status, conclusion) = match i % 5 {
        0 => (RunStatus::Queued, None),
        1 => (RunStatus::InProgress, None),
        2 => (RunStatus::Completed, Some(RunConclusion::Success)),
        3 => (RunStatus::Completed, Some(RunConclusion::Failure)),
        _ => (RunStatus::Completed, Some(RunConclusion::TimedOut)),
    };
    new.status = status;
    new.conclusion = conclusion;
    if status == RunStatus::Completed {
        new.completed_at = Some(base() + Duration::hours((i % 3) as i64));
    }
    if !i.is_multiple_of(7) {
        new.dataset_type = Some([DatasetType::Zarr, DatasetType::Kerchunk][i % 2]);
    }
    if conclusion == Some(RunConclusion::Success) {
        new.dataset_public_url = Some(format!("https://x.org/d{:02}", (i * 3) % 4));
    }
    new
}

/// Bakeries, feedstocks, 40 runs (8 with datasets) and 12 deliveries, written out of
/// order and with ties in every sortable column.
async fn varied_rows(app: &TestApp) {
    let db = app.db();
    let mut bakeries = Vec::new();
    for (name, region, description) in [
        ("bk-c", "ra", "dc"),
        ("bk-a", "rb", "da"),
        ("bk-d", "ra", "dc"),
        ("bk-b", "rb", "db"),
    ] {
        let new = NewBakery {
            name: name.into(),
            region: region.into(),
            description: description.into(),
        };
        bakeries.push(db.create_bakery(new).await.unwrap().id);
    }
    let mut feedstocks = Vec::new();
    for n in [5, 2, 7, 1, 4, 6, 3] {
        let new = NewFeedstock {
            spec: format!("org/f{n:02}-feedstock"),
            provider: None,
        };
        feedstocks.push(db.create_feedstock(new).await.unwrap().id);
    }
    for i in 0..40 {
        db.create_recipe_run(varied_run(i, &bakeries, &feedstocks))
            .await
            .unwrap();
    }
    for i in 0..12 {
        db.record_delivery(NewDelivery {
            guid: format!("guid-{i:02}"),
            event: "pull_request".into(),
            action: Some("opened".into()),
            repository: Some(format!("org/f{:02}-feedstock", i % 8)),
            installation_id: Some(1),
            payload: "{}".into(),
            state: DeliveryState::Ignored,
            last_error: None,
            note: None,
        })
        .await
        .unwrap();
    }
}

async fn every_ordering_pages_through_every_row_once_in_order(app: TestApp) {
    varied_rows(&app).await;
    for list in LISTS {
        let everything = page(&app, list, &Value::Null, 100, &Value::Null).await;
        let rows: Vec<Value> = everything["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .collect();
        assert!(rows.len() >= 4, "{}: {everything}", list.field);
        let Some((_, fields)) = list.order else {
            // Webhook deliveries: newest first.
            let ids = walk(&app, list, &Value::Null, 5).await;
            assert_eq!(ids, expected_order(&rows, "id", true), "{}", list.field);
            continue;
        };
        for field in enum_values(&app, fields).await {
            for direction in ["ASC", "DESC"] {
                let order = json!({"field": field, "direction": direction});
                let ids = walk(&app, list, &order, 7).await;
                let expected = expected_order(&rows, &camel(&field), direction == "DESC");
                assert_eq!(
                    ids, expected,
                    "{} ordered by {field} {direction}",
                    list.field
                );
            }
        }
    }
}

/// Where a run inserted between two pages must show up in the pages still to come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// It sorts after the last row seen: a later page has it.
    Seen,
    /// It sorts before the last row seen: no later page has it.
    Unseen,
    /// Either, depending on where the cursor is.
    Either,
}

/// A bakery and a feedstock for runs to name.
async fn parents(app: &TestApp) -> (i32, i32) {
    let db = app.db();
    let bakery = db
        .create_bakery(NewBakery {
            name: "bk".into(),
            region: "ra".into(),
            description: "d".into(),
        })
        .await
        .unwrap();
    let feedstock = db
        .create_feedstock(NewFeedstock {
            spec: "org/f-feedstock".into(),
            provider: None,
        })
        .await
        .unwrap();
    (bakery.id, feedstock.id)
}

fn time(value: &Value) -> Option<DateTime<Utc>> {
    value
        .as_str()
        .map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
}

/// Pages through recipe runs 5 at a time; between two pages inserts runs that sort before
/// the last row seen, after it, and with its very sort key (a tie, placed by id).
async fn pages_neither_repeat_nor_skip_rows_under_concurrent_inserts(app: TestApp) {
    let db = app.db();
    let (bakery, feedstock) = parents(&app).await;
    let at = |started: DateTime<Utc>, completed: Option<DateTime<Utc>>| {
        let mut new = run("r", bakery, feedstock, &"a".repeat(40));
        new.started_at = Some(started);
        if let Some(completed) = completed {
            new.status = RunStatus::Completed;
            new.conclusion = Some(RunConclusion::Failure);
            new.completed_at = Some(completed);
        }
        new
    };
    let minutes = |n: i64| base() + Duration::minutes(n);
    for i in 0..24 {
        // Pairs share a start (ties); every third run has not completed (NULLs).
        db.create_recipe_run(at(
            minutes(i / 2),
            (i % 3 != 0).then(|| minutes(60 * (i / 4))),
        ))
        .await
        .unwrap();
    }
    // What to insert after page `n` (0-based) whose last row is `last`; a run that must come
    // after every row is placed further out each time, as its tie with the one inserted
    // before would be broken by id.
    type At<'a> = &'a dyn Fn(DateTime<Utc>, Option<DateTime<Utc>>) -> NewRecipeRun;
    type Inserts = fn(&Value, At<'_>, i64) -> Vec<(NewRecipeRun, Expect)>;
    let scenarios: [(&str, &str, Inserts); 5] = [
        ("STARTED_AT", "DESC", |last, at, n| {
            let key = time(&last["startedAt"]).unwrap();
            vec![
                (at(base() + Duration::days(9), None), Expect::Unseen),
                (at(base() - Duration::days(9 + n), None), Expect::Seen),
                (at(key, None), Expect::Unseen),
            ]
        }),
        ("STARTED_AT", "ASC", |last, at, n| {
            let key = time(&last["startedAt"]).unwrap();
            vec![
                (at(base() - Duration::days(9), None), Expect::Unseen),
                (at(base() + Duration::days(9 + n), None), Expect::Seen),
                (at(key, None), Expect::Seen),
            ]
        }),
        ("COMPLETED_AT", "ASC", |last, at, _| {
            let key = time(&last["completedAt"]);
            vec![
                (at(base(), Some(base() - Duration::days(9))), Expect::Unseen),
                (at(base(), None), Expect::Seen),
                (at(base(), key), Expect::Seen),
            ]
        }),
        ("COMPLETED_AT", "DESC", |last, at, _| {
            let key = time(&last["completedAt"]);
            vec![
                (at(base(), Some(base() + Duration::days(9))), Expect::Unseen),
                (at(base(), None), Expect::Either),
                (at(base(), key), Expect::Unseen),
            ]
        }),
        ("ID", "ASC", |_, at, _| {
            vec![(at(base() - Duration::days(9), None), Expect::Seen)]
        }),
    ];
    let list = &LISTS[0];
    for (field, direction, inserts) in scenarios {
        let order = json!({"field": field, "direction": direction});
        let before_walk = walk(&app, list, &order, 100).await;
        let mut seen: Vec<i64> = Vec::new();
        let mut expected: Vec<(i64, Expect)> = Vec::new();
        let mut cursor = Value::Null;
        for n in 0.. {
            let connection = page(&app, list, &order, 5, &cursor).await;
            let nodes: Vec<Value> = connection["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone())
                .collect();
            seen.extend(nodes.iter().map(|n| n["id"].as_i64().unwrap()));
            if connection["pageInfo"]["hasNextPage"] == json!(false) {
                break;
            }
            cursor = connection["pageInfo"]["endCursor"].clone();
            for (new, expect) in inserts(nodes.last().unwrap(), &at, n) {
                let id = db.create_recipe_run(new).await.unwrap().id as i64;
                expected.push((id, expect));
            }
        }
        let unique: HashSet<i64> = seen.iter().copied().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{order}: a row came twice: {seen:?}"
        );
        let old: Vec<i64> = seen
            .iter()
            .copied()
            .filter(|id| before_walk.contains(id))
            .collect();
        assert_eq!(
            old, before_walk,
            "{order}: every earlier row, once, in order"
        );
        for &(id, expect) in &expected {
            match expect {
                Expect::Seen => assert!(unique.contains(&id), "{order}: run {id} was skipped"),
                Expect::Unseen => assert!(
                    !unique.contains(&id),
                    "{order}: run {id} came after its place"
                ),
                Expect::Either => {}
            }
        }
        // The next ordering starts from the same runs.
        for (id, _) in expected {
            db.delete_recipe_run(id as i32).await.unwrap();
        }
    }
}

async fn ties_in_the_sort_key_are_broken_by_id(app: TestApp) {
    let db = app.db();
    let (bakery, feedstock) = parents(&app).await;
    let mut ids = Vec::new();
    for _ in 0..11 {
        let new = run("same", bakery, feedstock, &"b".repeat(40));
        ids.push(db.create_recipe_run(new).await.unwrap().id as i64);
    }
    let descending: Vec<i64> = ids.iter().rev().copied().collect();
    for field in [
        "STARTED_AT",
        "STATUS",
        "RECIPE_ID",
        "IS_TEST",
        "FEEDSTOCK_ID",
    ] {
        let asc = json!({"field": field, "direction": "ASC"});
        let desc = json!({"field": field, "direction": "DESC"});
        assert_eq!(walk(&app, &LISTS[0], &asc, 3).await, ids, "{field} ASC");
        assert_eq!(
            walk(&app, &LISTS[0], &desc, 3).await,
            descending,
            "{field} DESC"
        );
    }
}

async fn null_sort_keys_come_last_in_both_directions(app: TestApp) {
    let db = app.db();
    let (bakery, feedstock) = parents(&app).await;
    // Runs 0, 2, 4, 6 are still queued (no completion time, no conclusion); 1, 3, 5 ended
    // 1, 3 and 5 hours before `base`, with conclusions failure, cancelled, failure.
    let mut done = Vec::new();
    let mut open = Vec::new();
    for i in 0..7 {
        let mut new = run("r", bakery, feedstock, &"c".repeat(40));
        if i % 2 == 1 {
            new.status = RunStatus::Completed;
            new.conclusion = Some([RunConclusion::Failure, RunConclusion::Cancelled][(i / 2) % 2]);
            new.completed_at = Some(base() - Duration::hours(i as i64));
        }
        let id = db.create_recipe_run(new).await.unwrap().id as i64;
        if i % 2 == 1 { &mut done } else { &mut open }.push(id);
    }
    let reversed = |ids: &[i64]| ids.iter().rev().copied().collect::<Vec<i64>>();
    let order = |field: &str, direction: &str| json!({"field": field, "direction": direction});
    let runs = &LISTS[0];
    // Pages of 2: the second page holds the last value and the first NULL, the third starts
    // from a NULL's cursor.
    assert_eq!(
        walk(&app, runs, &order("COMPLETED_AT", "ASC"), 2).await,
        [reversed(&done), open.clone()].concat(),
        "the earliest completion first, then the runs without one by id"
    );
    assert_eq!(
        walk(&app, runs, &order("COMPLETED_AT", "DESC"), 2).await,
        [done.clone(), reversed(&open)].concat(),
        "the latest completion first, then the runs without one by id, descending"
    );
    assert_eq!(
        walk(&app, runs, &order("CONCLUSION", "ASC"), 2).await,
        [vec![done[1], done[0], done[2]], open.clone()].concat(),
        "cancelled, failure, failure, then NULLs"
    );
    assert_eq!(
        walk(&app, runs, &order("CONCLUSION", "DESC"), 2).await,
        [vec![done[2], done[0], done[1]], reversed(&open)].concat(),
    );
    // A column NULL in every row: the ids alone, in the direction asked.
    let mut all = [done.clone(), open.clone()].concat();
    all.sort();
    assert_eq!(
        walk(&app, runs, &order("DATASET_TYPE", "ASC"), 3).await,
        all
    );
    assert_eq!(
        walk(&app, runs, &order("DATASET_PUBLIC_URL", "DESC"), 3).await,
        reversed(&all)
    );
}

async fn foreign_old_and_garbage_cursors_are_refused(app: TestApp) {
    varied_rows(&app).await;
    let list = &LISTS[0];
    let started_desc = json!({"field": "STARTED_AT", "direction": "DESC"});
    let cursor =
        page(&app, list, &started_desc, 3, &Value::Null).await["pageInfo"]["endCursor"].clone();
    let refused = |query: String, variables: Value, expected: &'static [&'static str]| {
        let app = app.clone();
        async move {
            let response = app.gql(&query, variables.clone()).await;
            assert_eq!(
                error_code(&response),
                "BAD_USER_INPUT",
                "{variables}: {response}"
            );
            let message = error_message(&response);
            for part in expected {
                assert!(message.contains(part), "`{part}` missing from: {message}");
            }
        }
    };
    let runs = page_query(list);
    // Another direction, another field, no orderBy (by id), another list.
    for (order, expected) in [
        (
            json!({"field": "STARTED_AT", "direction": "ASC"}),
            &[
                "`recipeRuns` ordered by STARTED_AT DESC",
                "STARTED_AT ASC",
                "first page",
            ][..],
        ),
        (
            json!({"field": "COMPLETED_AT", "direction": "DESC"}),
            &["STARTED_AT DESC", "COMPLETED_AT DESC"][..],
        ),
        (
            Value::Null,
            &["STARTED_AT DESC", "`recipeRuns` ordered by ID ASC"][..],
        ),
    ] {
        refused(
            runs.clone(),
            json!({"first": 3, "after": cursor, "orderBy": order}),
            expected,
        )
        .await;
    }
    refused(
        page_query(&LISTS[2]),
        json!({"first": 3, "after": cursor}),
        &[
            "`recipeRuns` ordered by STARTED_AT DESC",
            "`feedstocks` ordered by ID ASC",
        ],
    )
    .await;
    // The offset paging's cursors, as this server used to hand them out.
    refused(
        runs.clone(),
        json!({"first": 3, "after": STANDARD.encode("offset:2")}),
        &[
            "offset paging this server no longer uses",
            "start again from the first page",
        ],
    )
    .await;
    // Garbage: not base64, base64 of nonsense, a cursor whose key does not fit the column.
    for garbage in [
        "bogus".to_owned(),
        STANDARD.encode("k1:[1, 2]"),
        STANDARD.encode(r#"k1:{"l":"recipeRuns","f":"started_at","d":"desc","k":7,"i":1}"#),
    ] {
        refused(
            runs.clone(),
            json!({"first": 3, "after": garbage, "orderBy": started_desc}),
            &["is not a cursor from this API"],
        )
        .await;
    }
}

both_engines!(
    every_ordering_pages_through_every_row_once_in_order,
    pages_neither_repeat_nor_skip_rows_under_concurrent_inserts,
    ties_in_the_sort_key_are_broken_by_id,
    null_sort_keys_come_last_in_both_directions,
    foreign_old_and_garbage_cursors_are_refused,
);
