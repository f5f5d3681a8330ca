//! The nested page the website shows costs a constant number of SQL statements, whatever
//! the page size: the dataloaders batch every relation.

use crate::both_engines;
use crate::sample::run;
use crate::support::TestApp;
use pangeo_forge_orchestrator::db::{NewBakery, NewFeedstock};
use serde_json::json;

const NESTED: &str = r#"query($first: Int!) {
    feedstocks(first: $first) {
        nodes {
            id spec
            recipeRuns { id status bakery { id name } dataset { url } }
            datasets { url }
        }
    }
}"#;

async fn nested_page_costs_constant_statements(app: TestApp) {
    let mut bakeries = Vec::new();
    for i in 0..3 {
        bakeries.push(
            app.db()
                .create_bakery(NewBakery {
                    name: format!("bakery-{i}"),
                    region: "r".into(),
                    description: "d".into(),
                })
                .await
                .unwrap(),
        );
    }
    for f in 0..100 {
        let feedstock = app
            .db()
            .create_feedstock(NewFeedstock {
                spec: format!("org/f{f}-feedstock"),
                provider: None,
            })
            .await
            .unwrap();
        for r in 0..2 {
            let bakery = &bakeries[(f + r) % 3];
            let sha = format!("{:040x}", f * 10 + r);
            app.db()
                .create_recipe_run(run(&format!("recipe-{r}"), bakery.id, feedstock.id, &sha))
                .await
                .unwrap();
        }
    }

    let mut costs = Vec::new();
    for first in [1, 10, 100] {
        let before = app.test_db.statement_count();
        let data = app.data(NESTED, json!({"first": first})).await;
        let nodes = data["feedstocks"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), first);
        assert!(
            nodes
                .iter()
                .all(|n| n["recipeRuns"].as_array().unwrap().len() == 2)
        );
        assert!(nodes[0]["recipeRuns"][0]["bakery"]["name"].is_string());
        costs.push(app.test_db.statement_count() - before);
    }
    // feedstocks, their runs, the runs' bakeries, the runs' datasets, the feedstocks' datasets.
    assert_eq!(
        costs,
        vec![5, 5, 5],
        "statements for 1, 10 and 100 feedstocks"
    );
}

both_engines!(nested_page_costs_constant_statements);
