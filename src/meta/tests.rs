//! meta.yaml texts as contributors write them, good and bad.

use super::*;

fn listed(meta: &Meta) -> &[RecipeEntry] {
    match &meta.recipes {
        Recipes::Listed(entries) => entries,
        Recipes::Dicts(d) => panic!("dict_object recipes: {d:?}"),
    }
}

/// The GPCP feedstock's meta.yaml, as in the original orchestrator's tests.
const GPCP: &str = r#"title: "Global Precipitation Climatology Project"
description: >
  Global Precipitation Climatology Project (GPCP) Daily Version 1.3 gridded, merged ty
  satellite/gauge precipitation Climate data Record (CDR) from 1996 to present.
pangeo_forge_version: "0.9.0"
pangeo_notebook_version: "2022.06.02"
recipes:
  - id: gpcp
    object: "recipe:recipe"
provenance:
  providers:
    - name: "NOAA NCEI"
      description: "National Oceanographic & Atmospheric Administration National Centers for Environmental Information"
      roles:
        - host
        - licensor
      url: https://www.ncei.noaa.gov/products/global-precipitation-climatology-project
  license: "No constraints on data access or use."
maintainers:
  - name: "Ryan Abernathey"
    orcid: "0000-0001-5999-4917"
    github: rabernat
bakery:
  id: "pangeo-ldeo-nsf-earthcube"
"#;

#[test]
fn parses_a_real_feedstock_meta() {
    let meta = parse_meta(GPCP).unwrap();
    assert_eq!(
        meta.title.as_deref(),
        Some("Global Precipitation Climatology Project")
    );
    assert!(
        meta.description
            .unwrap()
            .starts_with("Global Precipitation")
    );
    assert_eq!(
        meta.recipes,
        Recipes::Listed(vec![RecipeEntry {
            id: "gpcp".into(),
            object: "recipe:recipe".into()
        }])
    );
    assert_eq!(meta.bakery_id, "pangeo-ldeo-nsf-earthcube");
    assert_eq!(meta.maintainers.len(), 1);
    assert_eq!(meta.maintainers[0].github.as_deref(), Some("rabernat"));
}

#[test]
fn several_recipes_keep_their_order() {
    let text = "recipes:\n  - id: NASA-SMAP-SSS_RSS.monthly\n    object: recipe:monthly\n  - {id: daily, object: 'recipe:daily'}\nbakery: {id: pangeo-ldeo-nsf-earthcube}\n";
    let meta = parse_meta(text).unwrap();
    let ids: Vec<_> = listed(&meta).iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["NASA-SMAP-SSS_RSS.monthly", "daily"]);
    assert!(meta.maintainers.is_empty());
    assert_eq!(meta.title, None);
}

#[test]
fn broken_yaml_names_line_and_column() {
    let text = "title: ok\nrecipes:\n  - id: a\n   object: [unclosed\n";
    let err = parse_meta(text).unwrap_err();
    let MetaError::Syntax(message) = &err else {
        panic!("expected a syntax error, got {err:?}");
    };
    assert!(message.contains("line"), "{message}");
}

#[test]
fn wrong_type_is_a_syntax_error() {
    let err = parse_meta("recipes: {id: a, object: b}\nbakery: {id: x}\n").unwrap_err();
    assert!(matches!(err, MetaError::Syntax(_)), "{err:?}");
}

#[test]
fn missing_or_empty_recipes() {
    assert_eq!(
        parse_meta("title: x\nbakery: {id: b}\n").unwrap_err(),
        MetaError::NoRecipes
    );
    assert_eq!(parse_meta("").unwrap_err(), MetaError::NoRecipes);
    assert_eq!(
        parse_meta("recipes: []\nbakery: {id: b}\n").unwrap_err(),
        MetaError::EmptyRecipes
    );
}

#[test]
fn entry_without_id_or_object() {
    let err = parse_meta("recipes:\n  - object: recipe:r\nbakery: {id: b}\n").unwrap_err();
    assert_eq!(
        err,
        MetaError::MissingField {
            position: 1,
            field: "id"
        }
    );
    let err = parse_meta("recipes:\n  - {id: a, object: 'r:r'}\n  - id: b\nbakery: {id: b}\n")
        .unwrap_err();
    assert_eq!(
        err,
        MetaError::MissingField {
            position: 2,
            field: "object"
        }
    );
    assert!(err.to_string().contains("`object`"));
}

#[test]
fn dict_object_is_accepted_in_both_forms() {
    let list = parse_meta("recipes:\n  - dict_object: recipe:recipes\nbakery: {id: b}\n").unwrap();
    assert_eq!(
        list.recipes,
        Recipes::Dicts(DictObjects {
            objects: vec!["recipe:recipes".into()],
            mapping_form: false
        })
    );
    assert!(!list.needs_list_form());
    // The mapping form of the CMIP6 feedstocks: not a YAML type error.
    let mapping =
        parse_meta("recipes:\n  dict_object: 'recipe:recipes'\nbakery: {id: b}\n").unwrap();
    assert!(mapping.needs_list_form());
    assert_eq!(mapping.bakery_id, "b");
}

#[test]
fn dict_object_beside_id_object_is_refused() {
    let err = parse_meta(
        "recipes:\n  - dict_object: recipe:recipes\n  - {id: a, object: 'r:r'}\nbakery: {id: b}\n",
    )
    .unwrap_err();
    assert_eq!(err, MetaError::MixedForms { position: 2 });
    assert!(err.to_string().contains("cannot mix"), "{err}");
    let err =
        parse_meta("recipes:\n  - {dict_object: 'r:d', id: a}\nbakery: {id: b}\n").unwrap_err();
    assert_eq!(err, MetaError::BothForms { position: 1 });
}

#[test]
fn the_mapping_form_is_rewritten_to_the_list_form_keeping_every_key() {
    let text = "title: CMIP6\nrecipes:\n  dict_object: 'recipe:recipes'\nbakery:\n  id: b\nmaintainers:\n  - {name: A, github: a}\n";
    let rewritten = list_form_text(text).unwrap();
    let meta = parse_meta(&rewritten).unwrap();
    assert!(!meta.needs_list_form());
    assert_eq!(meta.title.as_deref(), Some("CMIP6"));
    assert_eq!(meta.bakery_id, "b");
    assert_eq!(meta.maintainers.len(), 1);
    let value: serde_json::Value = serde_json::from_str(&rewritten).unwrap();
    assert_eq!(
        value["recipes"],
        serde_json::json!([{"dict_object": "recipe:recipes"}])
    );
}

#[test]
fn expanded_ids_are_checked_as_written_ones() {
    let entry = |id: &str| RecipeEntry {
        id: id.into(),
        object: "recipe:recipes".into(),
    };
    assert_eq!(checked_ids(vec![entry("a"), entry("b")]).unwrap().len(), 2);
    assert_eq!(
        checked_ids(vec![entry("a"), entry("a")]).unwrap_err(),
        MetaError::DuplicateRecipeId("a".into())
    );
    assert!(matches!(
        checked_ids(vec![entry("bad\u{7}")]).unwrap_err(),
        MetaError::BadRecipeId { .. }
    ));
}

#[test]
fn duplicate_ids_are_refused() {
    let text =
        "recipes:\n  - {id: a, object: 'r:x'}\n  - {id: a, object: 'r:y'}\nbakery: {id: b}\n";
    assert_eq!(
        parse_meta(text).unwrap_err(),
        MetaError::DuplicateRecipeId("a".into())
    );
}

#[test]
fn ids_the_original_accepted_are_accepted_as_written() {
    for id in [
        "AWS NOAA Ocean Nearsurface Atmos Profiles",
        "../etc",
        "a/b",
        "-rf",
        ".hidden",
        "x;rm",
        "é",
    ] {
        let text = format!("recipes:\n  - {{id: '{id}', object: 'r:r'}}\nbakery: {{id: b}}\n");
        let meta = parse_meta(&text).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(listed(&meta)[0].id, id);
    }
}

#[test]
fn empty_control_and_overlong_ids_are_refused() {
    // YAML escapes: a bell character, a tab.
    for id in ["a\\u0007b", "tab\\there"] {
        let text = format!("recipes:\n  - {{id: \"{id}\", object: 'r:r'}}\nbakery: {{id: b}}\n");
        let err = parse_meta(&text).unwrap_err();
        assert!(
            matches!(err, MetaError::BadRecipeId { .. }),
            "{id}: {err:?}"
        );
    }
    assert!(check_recipe_id("").is_err());
    assert!(check_recipe_id(&"a".repeat(MAX_RECIPE_ID_LEN)).is_ok());
    assert!(check_recipe_id(&"a".repeat(MAX_RECIPE_ID_LEN + 1)).is_err());
}

#[test]
fn bakery_id_is_required() {
    let recipes = "recipes:\n  - {id: a, object: 'r:r'}\n";
    assert_eq!(parse_meta(recipes).unwrap_err(), MetaError::NoBakery);
    let text = format!("{recipes}bakery: {{}}\n");
    assert_eq!(parse_meta(&text).unwrap_err(), MetaError::NoBakery);
    let text = format!("{recipes}bakery:\n  id: ''\n");
    assert_eq!(parse_meta(&text).unwrap_err(), MetaError::NoBakery);
}
