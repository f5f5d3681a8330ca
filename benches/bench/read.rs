//! The read path: the website's five pages through GraphQL and REST, each beside its
//! floor — the same rows fetched by one hand-written SQL statement through the same pool,
//! at the same concurrency, in the same run.

use super::load::{self, Call, MakeRequest, Sample, Until};
use super::{Args, Out, ms};
use crate::support::bench_data;
use http::StatusCode;
use pangeo_forge_orchestrator::db::Database;
use sea_orm::{ConnectionTrait, Statement};
use std::net::SocketAddr;
use std::sync::Arc;

/// One page of the website.
pub struct Case {
    /// What the page shows.
    pub page: &'static str,
    /// The GraphQL document the website sends (`$id` is a feedstock id when used).
    pub graphql: &'static str,
    /// The REST path for feedstock `id`.
    pub rest: fn(i32) -> String,
    /// The floor: SQL returning the same rows (`$1` is the feedstock id when used).
    pub floor: &'static str,
    /// The REST route's floor when it returns other rows than the GraphQL query.
    pub rest_floor: Option<&'static str>,
}

/// The five pages.
pub const CASES: &[Case] = &[
    Case {
        page: "(a) feedstock list, 100",
        graphql: "query { feedstocks(first: 100) { nodes { id spec provider } pageInfo { hasNextPage endCursor } } }",
        rest: |_| "/feedstocks/?limit=100".to_owned(),
        floor: "SELECT id, spec, provider FROM feedstock ORDER BY id LIMIT 100",
        rest_floor: None,
    },
    Case {
        page: "(b) feedstock + ~100 runs",
        graphql: "query($id: Int!) { feedstock(id: $id) { id spec provider recipeRuns(first: 100) { id recipeId bakeryId headSha version startedAt completedAt status conclusion isTest datasetType datasetPublicUrl } } }",
        rest: |id| format!("/feedstocks/{id}"),
        floor: "SELECT f.spec, f.provider, r.* FROM feedstock f JOIN recipe_run r ON r.feedstock_id = f.id WHERE f.id = $1 ORDER BY r.id DESC LIMIT 100",
        rest_floor: None,
    },
    Case {
        page: "(c) 100 recent runs + parents",
        graphql: "query { recipeRuns(first: 100, orderBy: {field: STARTED_AT, direction: DESC}) { nodes { id recipeId status conclusion startedAt completedAt isTest datasetType bakery { id name region } feedstock { id spec } } } }",
        rest: |_| "/recipe_runs/?limit=100&order_by=started_at&sort=desc".to_owned(),
        floor: "SELECT r.*, b.name, b.region, f.spec FROM recipe_run r JOIN bakery b ON b.id = r.bakery_id JOIN feedstock f ON f.id = r.feedstock_id ORDER BY r.started_at DESC, r.id DESC LIMIT 100",
        rest_floor: Some("SELECT * FROM recipe_run ORDER BY started_at DESC, id DESC LIMIT 100"),
    },
    Case {
        page: "(d) stats counts",
        graphql: "query { stats { recipeRuns bakeries feedstocks datasets(excludeTestRuns: true) } }",
        rest: |_| "/stats/recipe_runs".to_owned(),
        // The counts are kept in `row_count` by triggers; the floor reads the same rows.
        floor: "SELECT name, n FROM row_count",
        rest_floor: Some("SELECT n FROM row_count WHERE name = 'recipe_run'"),
    },
    Case {
        page: "(e) production datasets",
        graphql: "query($id: Int!) { feedstock(id: $id) { datasets(type: PRODUCTION) { id recipeRunId recipeId type url isTest createdAt } } }",
        rest: |id| format!("/feedstocks/{id}/datasets?type=production"),
        floor: "SELECT * FROM dataset WHERE feedstock_id = $1 AND is_test = false ORDER BY id",
        rest_floor: None,
    },
];

/// The feedstock request `i` reads: spread over all of them.
fn pick(ids: &[i32], i: u64) -> i32 {
    ids[(i.wrapping_mul(7919) % ids.len() as u64) as usize]
}

/// GraphQL request `i` of `case`.
pub fn graphql_request(addr: SocketAddr, case: &'static Case, ids: Arc<Vec<i32>>) -> MakeRequest {
    Arc::new(move |i| {
        let variables = if case.graphql.contains("$id") {
            serde_json::json!({ "id": pick(&ids, i) })
        } else {
            serde_json::json!({})
        };
        let body = serde_json::json!({ "query": case.graphql, "variables": variables });
        super::post_json(addr, "/graphql", body.to_string(), &[])
    })
}

/// REST request `i` of `case`.
pub fn rest_request(addr: SocketAddr, case: &'static Case, ids: Arc<Vec<i32>>) -> MakeRequest {
    Arc::new(move |i| super::get(addr, &(case.rest)(pick(&ids, i))))
}

/// `GET /graphql` request `i` of `case` (the query in the URL, as a CDN can cache it).
pub fn graphql_get_request(
    addr: SocketAddr,
    case: &'static Case,
    ids: Arc<Vec<i32>>,
) -> MakeRequest {
    Arc::new(move |i| {
        let variables = if case.graphql.contains("$id") {
            serde_json::json!({ "id": pick(&ids, i) })
        } else {
            serde_json::json!({})
        };
        let query = serde_urlencoded::to_string([
            ("query", case.graphql.to_owned()),
            ("variables", variables.to_string()),
        ])
        .unwrap_or_default();
        super::get(addr, &format!("/graphql?{query}"))
    })
}

/// `make`'s requests with `If-None-Match: tag`.
fn conditional(make: MakeRequest, tag: http::HeaderValue) -> MakeRequest {
    Arc::new(move |i| {
        let mut request = make(i);
        request
            .headers_mut()
            .insert(http::header::IF_NONE_MATCH, tag.clone());
        request
    })
}

/// The `ETag` of `make(0)`'s answer (the tag is the data version's: any read's will do).
/// On PostgreSQL reads carry none until the server's change listener is LISTENing.
async fn etag_of(addr: SocketAddr, make: &MakeRequest) -> anyhow::Result<http::HeaderValue> {
    for _ in 0..100 {
        let mut sender = load::connect(addr).await?;
        let response = sender.send_request(make(0)).await?;
        if let Some(tag) = response.headers().get(http::header::ETAG) {
            return Ok(tag.clone());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!("no ETag on a read after 5 s")
}

fn floor_call(db: &Database, sql: &'static str, ids: Arc<Vec<i32>>) -> Call {
    let conn = db.connection().clone();
    let backend = db.backend();
    let bound = sql.contains("$1");
    let sql = match backend {
        sea_orm::DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace("$1", "?1"),
    };
    Arc::new(move |i| {
        let values: Vec<sea_orm::Value> = if bound {
            vec![pick(&ids, i).into()]
        } else {
            Vec::new()
        };
        let statement = Statement::from_sql_and_values(backend, sql.clone(), values);
        let conn = conn.clone();
        Box::pin(async move {
            conn.query_all_raw(statement).await?;
            Ok(())
        })
    })
}

/// Checks one request answers 200 without GraphQL errors before timing it.
pub async fn probe(addr: SocketAddr, make: &MakeRequest, what: &str) -> anyhow::Result<()> {
    let (status, body) = load::once(addr, make(0)).await?;
    let text = String::from_utf8_lossy(&body);
    if status != StatusCode::OK || text.contains("\"errors\"") {
        anyhow::bail!("{what} answered {status}: {}", &text[..text.len().min(500)]);
    }
    Ok(())
}

/// Writes the table header.
pub fn header(out: Out<'_>) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<32} {:<9} {:>9} {:>10} {:>10} {:>11} {:>8} {:>6}",
        "page", "path", "req/s", "p50", "p99", "floor q/s", "ratio", "errors"
    )
}

/// Writes one row: `sample` beside its `floor`.
pub fn row(
    out: Out<'_>,
    page: &str,
    path: &str,
    sample: &Sample,
    floor: &Sample,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<32} {:<9} {:>9.0} {:>10} {:>10} {:>11.0} {:>7.0}% {:>6}",
        page,
        path,
        sample.rate(),
        ms(sample.quantile(0.5)),
        ms(sample.quantile(0.99)),
        floor.rate(),
        100.0 * sample.rate() / floor.rate().max(1e-9),
        sample.errors + floor.errors,
    )?;
    for e in [&sample.first_error, &floor.first_error]
        .into_iter()
        .flatten()
    {
        writeln!(out, "    first error: {e}")?;
    }
    Ok(())
}

/// The round with the median rate.
fn median(mut rounds: Vec<Sample>) -> Option<Sample> {
    rounds.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    let middle = rounds.len() / 2;
    rounds.into_iter().nth(middle)
}

/// Loads the data set into `url`, serves it in this process and measures every page.
pub async fn run(args: &Args, url: &str, out: Out<'_>) -> anyhow::Result<()> {
    let db = super::open(url).await?;
    let loaded = bench_data::load(&db, args.feedstocks, args.runs).await?;
    writeln!(
        out,
        "\n## read path: {} feedstocks, 3 bakeries, {} runs, {} datasets (loaded in {:.1} s)",
        loaded.feedstock_ids.len(),
        loaded.runs,
        loaded.datasets,
        loaded.seconds
    )?;
    let (addr, per_field_addr) = super::serve_both_in_process(url, &db).await?;
    let ids = Arc::new(loaded.feedstock_ids);
    let until = Until::Elapsed(args.duration());
    let c = args.concurrency;
    header(out)?;
    for case in CASES {
        let gql = graphql_request(addr, case, ids.clone());
        let rest = rest_request(addr, case, ids.clone());
        // The same documents, every field through async-graphql's own future.
        let per_field = graphql_request(per_field_addr, case, ids.clone());
        probe(addr, &gql, case.page).await?;
        probe(addr, &rest, case.page).await?;
        probe(per_field_addr, &per_field, case.page).await?;
        // Each path is measured `rounds` times, the paths taking turns, and the median
        // round is shown: the machine's speed drifts (other builds), and turns keep the
        // paths' figures comparable with each other.
        let mut rounds: [Vec<Sample>; 5] = Default::default();
        for _ in 0..args.rounds.max(1) {
            let floor = floor_call(&db, case.floor, ids.clone());
            rounds[0].push(load::calls(c, until, floor).await?);
            rounds[1].push(load::http(addr, c, until, gql.clone(), StatusCode::OK).await?);
            rounds[2].push(
                load::http(per_field_addr, c, until, per_field.clone(), StatusCode::OK).await?,
            );
            if let Some(sql) = case.rest_floor {
                let floor = floor_call(&db, sql, ids.clone());
                rounds[3].push(load::calls(c, until, floor).await?);
            }
            rounds[4].push(load::http(addr, c, until, rest.clone(), StatusCode::OK).await?);
        }
        let [floors, graphqls, per_fields, rest_floors, rests] = rounds.map(median);
        let floor = floors.unwrap_or_default();
        let rest_floor = rest_floors.as_ref().unwrap_or(&floor);
        let (graphql, per_field) = (graphqls.unwrap_or_default(), per_fields.unwrap_or_default());
        let rest_sample = rests.unwrap_or_default();
        row(out, case.page, "graphql", &graphql, &floor)?;
        row(out, "", "per-field", &per_field, &floor)?;
        row(out, "", "rest", &rest_sample, rest_floor)?;
        writeln!(
            out,
            "{:<32} a GraphQL request costs {:.2}x a REST one ({:.2}x per-field)",
            "",
            rest_sample.rate() / graphql.rate().max(1e-9),
            rest_sample.rate() / per_field.rate().max(1e-9),
        )?;
        // Asked again with the tag while nothing changed: 304, no statement.
        let tag = etag_of(addr, &rest).await?;
        let sample = load::http(
            addr,
            c,
            until,
            conditional(rest, tag),
            StatusCode::NOT_MODIFIED,
        )
        .await?;
        row(out, "", "rest 304", &sample, rest_floor)?;
        let gql_get = graphql_get_request(addr, case, ids.clone());
        probe(addr, &gql_get, case.page).await?;
        let tag = etag_of(addr, &gql_get).await?;
        let sample = load::http(
            addr,
            c,
            until,
            conditional(gql_get, tag),
            StatusCode::NOT_MODIFIED,
        )
        .await?;
        row(out, "", "gql 304", &sample, &floor)?;
    }
    db.close().await?;
    Ok(())
}
