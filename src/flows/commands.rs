//! Slash commands in PR comments. One parser, its own error type, and help text generated
//! from an exhaustive `match`, so the help never drifts from what is parsed.
//!
//! A command is the first line of the comment that starts with `/`, outside fenced code
//! blocks and quotes (so quoting someone's `/run` does not run anything).

/// A command a maintainer can give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/run <recipe_id>`: submit a test job for the recipe at the PR's head commit.
    Run { recipe_id: String },
    /// `/rerun <recipe_id>`: submit a fresh test run of the recipe at the PR's head commit.
    Rerun { recipe_id: String },
}

/// The commands, for help texts: one example of each.
const ALL: [CommandName; 2] = [CommandName::Run, CommandName::Rerun];

#[derive(Debug, Clone, Copy)]
enum CommandName {
    Run,
    Rerun,
}

impl CommandName {
    fn usage(self) -> (&'static str, &'static str) {
        match self {
            CommandName::Run => (
                "/run <recipe_id>",
                "submit a test job (a small subset of the data) for this recipe at the PR's latest commit",
            ),
            CommandName::Rerun => (
                "/rerun <recipe_id>",
                "submit a fresh test job for this recipe at the PR's latest commit, after a run failed or was cancelled",
            ),
        }
    }
}

/// Why a comment's command was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("`/{0}` is not a command")]
    Unknown(String),
    #[error("`/{command}` needs {what}")]
    MissingArgument {
        command: &'static str,
        what: &'static str,
    },
    #[error("`/{command}` takes one argument, got `{extra}` too")]
    TooManyArguments {
        command: &'static str,
        extra: String,
    },
}

/// The command in `body`, if any: `None` when no line outside code blocks and quotes
/// starts with `/`.
pub fn parse(body: &str) -> Option<Result<Command, CommandError>> {
    let mut in_fence = false;
    for line in body.lines() {
        let line = line.trim();
        if line.starts_with("```") || line.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || line.starts_with('>') {
            continue;
        }
        if let Some(command) = line.strip_prefix('/') {
            return Some(parse_line(command));
        }
    }
    None
}

fn parse_line(line: &str) -> Result<Command, CommandError> {
    let line = line.trim();
    let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let command: &'static str = match name {
        "run" => "run",
        "rerun" => "rerun",
        other => return Err(CommandError::Unknown(other.to_owned())),
    };
    let rest = rest.trim();
    // A recipe id with spaces (the original accepted them) is quoted: `…`, "…" or '…'.
    let (recipe_id, extra) = match rest.chars().next() {
        Some(quote @ ('`' | '"' | '\'')) => match rest[1..].split_once(quote) {
            Some((id, after)) => (id, after.trim()),
            None => (rest.trim_matches(quote), ""),
        },
        _ => rest.split_once(char::is_whitespace).unwrap_or((rest, "")),
    };
    if recipe_id.is_empty() {
        return Err(CommandError::MissingArgument {
            command,
            what: "a recipe id, e.g. `/run my-recipe` (quote one with spaces: `/run \"my recipe\"`)",
        });
    }
    if let Some(extra) = extra.split_whitespace().next() {
        return Err(CommandError::TooManyArguments {
            command,
            extra: extra.to_owned(),
        });
    }
    let recipe_id = recipe_id.to_owned();
    Ok(match command {
        "rerun" => Command::Rerun { recipe_id },
        _ => Command::Run { recipe_id },
    })
}

/// A Markdown list of every command and what it does.
pub fn help() -> String {
    ALL.iter()
        .map(|c| {
            let (usage, what) = c.usage();
            format!("- `{usage}`: {what}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str) -> Option<Result<Command, CommandError>> {
        Some(Ok(Command::Run {
            recipe_id: id.into(),
        }))
    }

    #[test]
    fn a_quoted_recipe_id_may_hold_spaces() {
        let id = "AWS NOAA Ocean Nearsurface Atmos Profiles";
        assert_eq!(parse(&format!("/run `{id}`")), run(id));
        assert_eq!(parse(&format!("/run \"{id}\"")), run(id));
        assert_eq!(parse(&format!("/run '{id}'  ")), run(id));
        assert!(matches!(
            parse(&format!("/run \"{id}\" extra")),
            Some(Err(CommandError::TooManyArguments { .. }))
        ));
        assert!(matches!(
            parse("/run \"\""),
            Some(Err(CommandError::MissingArgument { .. }))
        ));
    }

    #[test]
    fn run_takes_one_recipe_id() {
        assert_eq!(parse("/run gpcp"), run("gpcp"));
        assert_eq!(parse("  /run   gpcp  \n"), run("gpcp"));
        assert_eq!(parse("Looks good!\n/run `gpcp-daily`"), run("gpcp-daily"));
        assert_eq!(
            parse("/run"),
            Some(Err(CommandError::MissingArgument {
                command: "run",
                what: "a recipe id, e.g. `/run my-recipe` (quote one with spaces: `/run \"my recipe\"`)"
            }))
        );
        assert_eq!(
            parse("/run a b"),
            Some(Err(CommandError::TooManyArguments {
                command: "run",
                extra: "b".into()
            }))
        );
    }

    #[test]
    fn rerun_takes_one_recipe_id() {
        assert_eq!(
            parse("/rerun gpcp"),
            Some(Ok(Command::Rerun {
                recipe_id: "gpcp".into()
            }))
        );
        assert!(matches!(
            parse("/rerun"),
            Some(Err(CommandError::MissingArgument {
                command: "rerun",
                ..
            }))
        ));
    }

    #[test]
    fn unknown_commands_are_named() {
        let err = parse("/deploy now").and_then(Result::err);
        assert_eq!(err, Some(CommandError::Unknown("deploy".into())));
        assert_eq!(
            err.map(|e| e.to_string()).unwrap_or_default(),
            "`/deploy` is not a command"
        );
    }

    #[test]
    fn quotes_code_blocks_and_plain_text_are_not_commands() {
        assert_eq!(parse("Thanks! Looks good to me."), None);
        assert_eq!(parse("> /run gpcp\nI agree"), None);
        assert_eq!(parse("```\n/run gpcp\n```"), None);
        assert_eq!(parse("use `/run gpcp` to test"), None);
        assert_eq!(parse("```\nx\n```\n/run after-fence"), run("after-fence"));
    }

    #[test]
    fn help_lists_every_command() {
        assert!(help().contains("`/run <recipe_id>`"));
        assert!(help().contains("`/rerun <recipe_id>`"));
    }
}
