"""`authz policy impact`, `compare` and `review` refuse options that cannot mean anything with click's usage error
(exit 2, "Invalid value"), before reading any policy or database: a negative `--limit`, and a
`--since` that is neither a duration nor an ISO date, or out of range (R9.7)."""

from click.testing import CliRunner

from authz_service.cli import main


def test_bad_limits_and_since_are_usage_errors():
    for option in (["--limit", "-1"], ["--limit", "1.5"], ["--limit", "9" * 5000], ["--since", "-5d"],
                   ["--since", "9999999d"], ["--since", "soon"], ["--since", "2026-13-01"], ["--since", "\x00"]):
        result = CliRunner().invoke(main, ["policy", "impact", "policies", *option])
        assert result.exit_code == 2 and "Invalid value" in result.output, (option, result.output)
        assert "Traceback" not in result.output


def test_a_path_outside_the_repository_is_a_usage_error(tmp_path):
    """`--path` naming a folder outside the repository, with a git revision (R9.7): exit 2
    naming `--path`, never a traceback (it was a ValueError from pathlib)."""
    for command in (["policy", "review", "HEAD"], ["policy", "compare", "HEAD", "policies"],
                    ["policy", "impact", "HEAD"]):
        result = CliRunner().invoke(main, [*command, "--path", str(tmp_path)])
        assert result.exit_code == 2 and "Invalid value for --path" in result.output, (command, result.output,
                                                                                     result.exception)
