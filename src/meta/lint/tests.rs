//! Problems found where a contributor wrote them.

use super::*;

/// `(line, column, level, kind)` of every problem.
fn found(text: &str) -> Vec<(u32, u32, Level, ProblemKind)> {
    check(text)
        .problems
        .into_iter()
        .map(|p| (p.at.line, p.at.column, p.level(), p.kind))
        .collect()
}

const COMPLETE: &str = r#"title: "GPCP"
description: Daily precipitation
pangeo_forge_version: "0.9.0"
pangeo_notebook_version: "2022.06.02"
recipes:
  - id: gpcp
    object: "recipe:recipe"
provenance:
  providers:
    - name: NOAA NCEI
      description: National Centers for Environmental Information
      roles: [host, licensor]
      url: https://www.ncei.noaa.gov/
  license: CC-BY-4.0
maintainers:
  - name: Ryan Abernathey
    orcid: 0000-0001-5999-4917
    github: rabernat
bakery:
  id: pangeo-ldeo-nsf-earthcube
"#;

#[test]
fn a_complete_file_has_no_problem_and_says_where_its_values_are() {
    let checked = check(COMPLETE);
    assert_eq!(checked.problems, vec![]);
    assert!(checked.meta.is_some());
    assert_eq!(
        checked.bakery_id_at.map(|p| (p.line, p.column)),
        Some((20, 7))
    );
    let objects: Vec<_> = checked
        .objects
        .iter()
        .map(|o| (o.object.as_str(), o.module.as_str(), o.at.line))
        .collect();
    assert_eq!(objects, vec![("recipe:recipe", "recipe", 7)]);
}

#[test]
fn a_syntax_error_is_a_failure_on_the_parsers_line() {
    let problems = found("title: x\nrecipes:\n  - id: a\n   object: b\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    let (line, _, level, kind) = &problems[0];
    assert_eq!((*line, *level), (4, Level::Failure));
    assert!(matches!(kind, ProblemKind::Syntax { .. }), "{kind:?}");
}

#[test]
fn what_the_original_tolerated_is_a_warning_and_stays_accepted() {
    let text = COMPLETE
        .replace("pangeo_notebook_version: \"2022.06.02\"\n", "")
        .replace("  license: CC-BY-4.0\n", "")
        .replace(
            "      description: National Centers for Environmental Information\n",
            "",
        )
        .replace("https://www.ncei.noaa.gov/", "ftp.ncei.noaa.gov")
        .replace(
            "0000-0001-5999-4917",
            "https://orcid.org/0000-0001-5999-4917",
        )
        .replace("github: rabernat", "github: \"@rabernat\"");
    let checked = check(&text);
    assert!(checked.meta.is_some(), "{:?}", checked.problems);
    let problems = found(&text);
    assert!(
        problems.iter().all(|p| p.2 == Level::Warning),
        "{problems:?}"
    );
    let kinds: Vec<_> = problems.iter().map(|p| (p.0, p.3.clone())).collect();
    assert_eq!(
        kinds,
        vec![
            (
                1,
                ProblemKind::MissingRecommended {
                    key: "pangeo_notebook_version".into()
                }
            ),
            (
                7,
                ProblemKind::MissingRecommended {
                    key: "provenance.license".into()
                }
            ),
            (9, ProblemKind::ProviderWithoutDescription { position: 1 }),
            (
                11,
                ProblemKind::ProviderUrl {
                    position: 1,
                    url: "ftp.ncei.noaa.gov".into()
                }
            ),
            (
                14,
                ProblemKind::Orcid {
                    orcid: "https://orcid.org/0000-0001-5999-4917".into()
                }
            ),
            (
                15,
                ProblemKind::GithubLogin {
                    login: "@rabernat".into()
                }
            ),
        ]
    );
}

#[test]
fn an_unknown_key_gets_a_did_you_mean_for_a_near_miss_only() {
    let text = COMPLETE
        .replace("maintainers:", "maintainer:")
        .replace("bakery:\n  id:", "bakery:\n  target: osn\n  id:");
    let problems = found(&text);
    let unknown: Vec<_> = problems
        .iter()
        .filter_map(|p| match &p.3 {
            ProblemKind::UnknownKey {
                key, suggestion, ..
            } => Some((p.0, p.1, key.as_str(), *suggestion)),
            _ => None,
        })
        .collect();
    assert_eq!(
        unknown,
        vec![
            (15, 1, "maintainer", Some("maintainers")),
            (20, 3, "target", None)
        ]
    );
    // The misspelt key also leaves `maintainers` missing: a warning, since the original
    // never read it.
    assert!(problems.iter().any(|p| p.3
        == ProblemKind::MissingRecommended {
            key: "maintainers".into()
        }));
    assert!(check(&text).meta.is_some());
}

#[test]
fn suggestions_forgive_case_and_dashes() {
    assert_eq!(
        suggestion("Pangeo-Forge-Version", TOP_KEYS),
        Some("pangeo_forge_version")
    );
    assert_eq!(suggestion("recipe", TOP_KEYS), Some("recipes"));
    assert_eq!(suggestion("licence", PROVENANCE_KEYS), Some("license"));
    assert_eq!(suggestion("recipe-maintainers", TOP_KEYS), None);
    assert_eq!(suggestion("ids", RECIPE_KEYS), Some("id"));
    assert_eq!(suggestion("identifier", RECIPE_KEYS), None);
}

#[test]
fn what_stops_a_run_is_a_failure_on_its_own_line() {
    let text = "title: t\nrecipes:\n  - id: a\n    object: \"recipe:a\"\n  - id: a\n    object: recipe\n  - object: \"recipe:c\"\nbakery:\n  region: x\n";
    let problems = found(text);
    let failures: Vec<_> = problems
        .iter()
        .filter(|p| p.2 == Level::Failure)
        .map(|p| (p.0, p.1, p.3.clone()))
        .collect();
    assert_eq!(
        failures,
        vec![
            (
                5,
                9,
                ProblemKind::DuplicateRecipeId {
                    id: "a".into(),
                    first_line: 3
                }
            ),
            (
                6,
                13,
                ProblemKind::ObjectForm {
                    object: "recipe".into()
                }
            ),
            (
                7,
                5,
                ProblemKind::RecipeFieldMissing {
                    position: 3,
                    field: "id"
                }
            ),
            (8, 1, ProblemKind::NoBakeryId),
        ]
    );
    assert!(check(text).meta.is_none());
}

#[test]
fn missing_recipes_or_bakery_fail_at_the_top_and_an_empty_list_where_it_is() {
    let problems = found("title: t\n");
    let failures: Vec<_> = problems
        .iter()
        .filter(|p| p.2 == Level::Failure)
        .map(|p| p.3.clone())
        .collect();
    assert_eq!(
        failures,
        vec![
            ProblemKind::MissingRequired { key: "recipes" },
            ProblemKind::MissingRequired { key: "bakery" }
        ]
    );
    let problems = found("recipes: []\nbakery: {id: b}\n");
    assert!(
        problems.contains(&(1, 10, Level::Failure, ProblemKind::EmptyRecipes)),
        "{problems:?}"
    );
    assert_eq!(found("")[0].3, ProblemKind::Empty);
    assert_eq!(
        found("test meta.yaml\n")[0].3,
        ProblemKind::NotAMapping { found: "text" }
    );
}

#[test]
fn dict_object_forms_are_checked_as_the_runner_reads_them() {
    let mapping = "recipes:\n  dict_object: \"recipe:recipes\"\nbakery: {id: b}\n";
    let checked = check(mapping);
    assert!(!checked.fails(), "{:?}", checked.problems);
    assert_eq!(checked.objects[0].module, "recipe");
    assert_eq!(checked.objects[0].at.line, 2);
    let mixed = "recipes:\n  - dict_object: \"recipe:a\"\n  - id: b\n    object: \"recipe:b\"\nbakery: {id: b}\n";
    assert!(found(mixed).contains(&(
        3,
        5,
        Level::Failure,
        ProblemKind::MixedForms { position: 2 }
    )));
    let both = "recipes:\n  - dict_object: \"recipe:a\"\n    id: b\nbakery: {id: b}\n";
    assert!(
        found(both)
            .iter()
            .any(|p| p.3 == ProblemKind::BothForms { position: 1 })
    );
}

#[test]
fn a_wrong_type_stops_the_run_only_where_the_run_needs_the_value() {
    let text = COMPLETE
        .replace("\"0.9.0\"", "0.9")
        .replace("maintainers:\n  - name: Ryan Abernathey\n    orcid: 0000-0001-5999-4917\n    github: rabernat\n", "maintainers: Ryan\n");
    let checked = check(&text);
    assert!(checked.meta.is_some(), "{:?}", checked.problems);
    let problems = found(&text);
    assert_eq!(
        problems
            .iter()
            .map(|p| (p.0, p.3.clone()))
            .collect::<Vec<_>>(),
        vec![
            (
                3,
                ProblemKind::WrongType {
                    path: "pangeo_forge_version".into(),
                    expected: "text",
                    found: "a number",
                    stops: false
                }
            ),
            (
                15,
                ProblemKind::WrongType {
                    path: "maintainers".into(),
                    expected: "a list",
                    found: "text",
                    stops: false
                }
            ),
        ]
    );
    let bad_bakery = COMPLETE.replace(
        "bakery:\n  id: pangeo-ldeo-nsf-earthcube\n",
        "bakery: [x]\n",
    );
    assert!(check(&bad_bakery).fails());
}

#[test]
fn problems_added_later_keep_file_order_and_a_failure_drops_the_meaning() {
    let mut checked = check(COMPLETE);
    let at = checked.bakery_id_at.unwrap_or_default();
    checked.add(Problem::new(
        ProblemKind::UnknownBakery {
            id: "x".into(),
            known: vec![],
        },
        at,
    ));
    checked.add(Problem::new(
        ProblemKind::Orcid { orcid: "1".into() },
        Pos::START,
    ));
    assert_eq!(
        checked
            .problems
            .iter()
            .map(|p| p.at.line)
            .collect::<Vec<_>>(),
        vec![1, 20]
    );
    assert!(checked.meta.is_none());
}

#[test]
fn orcids_and_logins_have_their_forms() {
    assert!(is_orcid("0000-0002-1825-009X"));
    assert!(!is_orcid("0000-0002-1825-009x"));
    assert!(!is_orcid("000000021825009X"));
    assert!(is_github_login("cisaacstern"));
    assert!(is_github_login("a-b"));
    assert!(!is_github_login("-ab"));
    assert!(!is_github_login("a--b"));
    assert!(!is_github_login("Ryan Abernathey"));
    assert!(!is_github_login(&"a".repeat(40)));
}
