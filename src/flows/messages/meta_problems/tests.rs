//! Every meta.yaml problem as the contributor reads it: a snapshot, reviewed as a diff.

use super::*;
use crate::meta::tree::Pos;

fn every_kind() -> Vec<ProblemKind> {
    use ProblemKind::*;
    vec![
        Syntax {
            message: "did not find expected '-' indicator".into(),
        },
        Empty,
        NotAMapping { found: "text" },
        MissingRequired { key: "recipes" },
        MissingRequired { key: "bakery" },
        MissingRecommended {
            key: "provenance.license".into(),
        },
        WrongType {
            path: "pangeo_forge_version".into(),
            expected: "text",
            found: "a number",
            stops: false,
        },
        WrongType {
            path: "recipes".into(),
            expected: "a list",
            found: "text",
            stops: true,
        },
        EmptyRecipes,
        RecipeFieldMissing {
            position: 2,
            field: "object",
        },
        RecipesMapping,
        MixedForms { position: 2 },
        BothForms { position: 1 },
        BadRecipeId {
            id: "a\u{7}b".into(),
            reason: "`\\u{7}` (a control character) is not allowed".into(),
        },
        DuplicateRecipeId {
            id: "gpcp".into(),
            first_line: 6,
        },
        ObjectForm {
            object: "recipe".into(),
        },
        ModuleMissing {
            object: "recipes:recipe".into(),
            file: "recipes/gpcp/recipes.py".into(),
        },
        ExpansionFailed {
            object: "recipe:recipes".into(),
            said: "ModuleNotFoundError: No module named 'xesmf'".into(),
        },
        NoBakeryId,
        UnknownBakery {
            id: "pangeo-ldeo-nsf-earthcub".into(),
            known: vec!["pangeo-ldeo-nsf-earthcube".into()],
        },
        UnknownKey {
            parent: String::new(),
            key: "maintainer".into(),
            suggestion: Some("maintainers"),
        },
        UnknownKey {
            parent: "bakery".into(),
            key: "target".into(),
            suggestion: None,
        },
        ProviderWithoutDescription { position: 1 },
        ProviderUrl {
            position: 1,
            url: "ftp.example.org".into(),
        },
        Orcid {
            orcid: "0000-0001-5999-491".into(),
        },
        GithubLogin {
            login: "@rabernat".into(),
        },
        Refused {
            message: "meta.yaml is not valid: unexpected".into(),
        },
    ]
}

#[test]
fn every_problem_reads_as_a_sentence_with_its_fix() {
    let text: Vec<String> = every_kind()
        .iter()
        .map(|k| {
            format!(
                "[{}] {}\n    {}",
                level_name(k.level()),
                problem_title(k),
                problem_message(k)
            )
        })
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}

fn at(line: u32, column: u32, len: u32) -> Pos {
    Pos { line, column, len }
}

#[test]
fn the_summary_counts_and_says_what_to_fix_first() {
    let problems = vec![
        Problem::new(
            ProblemKind::MissingRecommended {
                key: "pangeo_notebook_version".into(),
            },
            at(1, 1, 0),
        ),
        Problem::new(
            ProblemKind::DuplicateRecipeId {
                id: "a|b".into(),
                first_line: 3,
            },
            at(5, 9, 3),
        ),
        Problem::new(ProblemKind::NoBakeryId, at(8, 1, 6)),
    ];
    let output = meta_problems("recipes/x/meta.yaml", &problems);
    insta::assert_snapshot!(format!("{}\n\n{}", output.title, output.summary));
    assert_eq!(output.annotations.len(), 3);
    let duplicate = &output.annotations[1];
    assert_eq!(
        (
            duplicate.start_line,
            duplicate.end_line,
            duplicate.start_column,
            duplicate.end_column,
            duplicate.annotation_level
        ),
        (5, 5, Some(9), Some(11), "failure")
    );
}

#[test]
fn a_long_list_is_cut_in_the_summary_but_every_problem_is_annotated() {
    let problems: Vec<Problem> = (1..=60)
        .map(|n| {
            Problem::new(
                ProblemKind::Orcid {
                    orcid: format!("{n}"),
                },
                at(n, 3, 1),
            )
        })
        .chain([Problem::new(ProblemKind::EmptyRecipes, at(61, 1, 1))])
        .collect();
    let output = meta_problems("feedstock/meta.yaml", &problems);
    assert_eq!(output.annotations.len(), 61);
    assert!(
        output.summary.contains("…and 11 more"),
        "{}",
        output.summary
    );
    assert!(output.summary.contains("**Fix first**, line 61"));
}

#[test]
fn warnings_are_added_to_a_success() {
    let warnings = vec![Problem::new(
        ProblemKind::Orcid { orcid: "x".into() },
        at(4, 12, 1),
    )];
    let output = with_warnings(
        super::super::check_succeeded("abc", &[]),
        "feedstock/meta.yaml",
        &warnings,
    );
    assert!(
        output.summary.contains("has 1 warning;"),
        "{}",
        output.summary
    );
    assert_eq!(output.annotations[0].annotation_level, "warning");
    let untouched = with_warnings(super::super::check_succeeded("abc", &[]), "p", &[]);
    assert!(untouched.annotations.is_empty());
}
