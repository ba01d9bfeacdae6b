"""`balance init`: a workspace from nothing, never over a household; what a half-made one lacks."""

from __future__ import annotations

import json
import shutil

from core.workspace import DEMO_WORKSPACE

from support import invoke

HEADERS = {
    "members.csv": "member_id,display_name,aliases",
    "split_policies.csv": "policy,member_id,weight,effective_from",
    "accounts.csv": "account_pattern,member_id,account_label,file_pattern",
    "merchant_lookup.csv": "pattern,merchant,category",
    "sharing_rules.csv": "rule_id,merchant,category,description,account,member,min_cost,"
    "max_cost,sharing,policy,payer_share_pct",
    "opening_balances.csv": "as_of,member_id,net_amount",
}
CAPITAL_ONE = "capital_one_savor_2026-04_2026-09.csv"


def files_of(folder) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_init_makes_a_workspace_where_a_first_run_works(tmp_path):
    workspace = tmp_path / "household"

    result = invoke("init", str(workspace), "--members", "Alex,sam")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"a balance workspace for alex, sam in {workspace}:",
        "  created household/members.csv",
        "  created household/split_policies.csv",
        "  created household/accounts.csv",
        "  created household/merchant_lookup.csv",
        "  created household/sharing_rules.csv",
        "  created household/opening_balances.csv",
        "  created csv_inbox/alex/",
        "  created csv_inbox/sam/",
        "  created rules/",
        "  created decisions/",
        "  created README.md",
        "next: put each member's exports in csv_inbox/<member>/, "
        f"then `balance run --workspace {workspace}`",
    ]
    household = workspace / "household"
    assert {path.name for path in household.iterdir()} == set(HEADERS)
    for name, header in HEADERS.items():
        assert (household / name).read_text().splitlines()[0] == header
    assert (household / "members.csv").read_text() == (
        "member_id,display_name,aliases\nalex,Alex,\nsam,Sam,\n"
    )
    assert (household / "split_policies.csv").read_text() == (
        "policy,member_id,weight,effective_from\ndefault,alex,1,\ndefault,sam,1,\n"
    )
    for name in set(HEADERS) - {"members.csv", "split_policies.csv"}:
        assert (household / name).read_text() == HEADERS[name] + "\n"
    for folder in ("csv_inbox/alex", "csv_inbox/sam", "rules", "decisions"):
        assert (workspace / folder).is_dir()
        assert list((workspace / folder).iterdir()) == []
    assert oct((household / "members.csv").stat().st_mode & 0o777) == "0o600"
    assert oct(household.stat().st_mode & 0o777) == "0o700"
    readme = (workspace / "README.md").read_text()
    assert "csv_inbox/alex/                alex's exports" in readme
    assert "1. Put exports in `csv_inbox/alex/`, `csv_inbox/sam/`." in readme
    assert "2. `balance run`, then open `output/balance_data.xlsx`" in readme
    assert "# household/sharing_rules.csv\ngroceries_are_shared,,^Groceries$" in readme

    shutil.copy(DEMO_WORKSPACE / "csv_inbox/alex" / CAPITAL_ONE, workspace / "csv_inbox/alex")
    run = invoke("run", "--workspace", str(workspace))

    assert run.exit_code == 0, run.output
    assert f"csv_inbox/alex/{CAPITAL_ONE}  capital_one_card  alex   28    28" in run.output
    assert run.output.splitlines()[-1] == "All settled up."
    assert (workspace / "output/balance_data.xlsx").is_file()
    status = json.loads(invoke("status", "--workspace", str(workspace), "--json").output)
    assert status["files"] == {"loaded": 1, "quarantined": 0}
    assert status["pending_review"] > 0  # nothing is decided yet: everything waits for review


def test_init_never_overwrites_a_household(tmp_path):
    workspace = tmp_path / "household"
    assert invoke("init", str(workspace), "--members", "alex,sam").exit_code == 0
    (workspace / "household/members.csv").write_text("member_id,display_name\npat,Pat\n")
    (workspace / "household/split_policies.csv").write_text(
        "policy,member_id,weight,effective_from\ndefault,pat,1,\n"
    )
    before = files_of(workspace)

    again = invoke("init", str(workspace), "--members", "alex,sam")

    assert again.exit_code == 1
    assert again.output == (
        f"balance: {workspace} already holds a household (household/members.csv, "
        "household/split_policies.csv); balance init never overwrites one\n"
    )
    assert files_of(workspace) == before


def test_init_in_the_current_folder_keeps_what_is_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text("my notes\n")
    (tmp_path / "csv_inbox/sam").mkdir(parents=True)

    result = invoke("init", "--members", "alex,sam")

    assert result.exit_code == 0, result.output
    assert "  kept csv_inbox/sam/ as it was" in result.output
    assert "  kept README.md as it was" in result.output
    assert result.output.splitlines()[-1] == (
        "next: put each member's exports in csv_inbox/<member>/, then `balance run`"
    )
    assert (tmp_path / "README.md").read_text() == "my notes\n"


def test_init_needs_member_ids_that_can_be_folders(tmp_path):
    cases = {
        (): "balance: name the household's members: balance init "
        f"{tmp_path / 'w'} --members alex,sam\n",
        ("--members", "alex,a/b"): "balance: --members: 'a/b' cannot be a member id (letters, "
        "digits, '.', '-' and '_', starting with a letter or digit: it is also the member's "
        "inbox folder)\n",
        ("--members", "sam,Sam"): "balance: --members: sam is named twice\n",
        ("--members", " , "): "balance: --members: name at least one member, e.g. "
        "--members alex,sam\n",
    }
    for arguments, message in cases.items():
        result = invoke("init", str(tmp_path / "w"), *arguments)
        assert (result.exit_code, result.output) == (1, message)
    assert not (tmp_path / "w").exists()


def test_a_half_made_workspace_says_what_is_missing_and_the_command_that_makes_it(tmp_path):
    workspace = tmp_path / "w"
    workspace.mkdir()

    empty = invoke("run", "--workspace", str(workspace))
    (workspace / "csv_inbox/pat").mkdir(parents=True)
    (workspace / "csv_inbox/jo").mkdir(parents=True)
    inbox_only = invoke("ingest", "--workspace", str(workspace))
    (workspace / "household").mkdir()
    (workspace / "household/members.csv").write_text("member_id,display_name\npat,Pat\njo,Jo\n")
    members_only = invoke("run", "--workspace", str(workspace))

    missing = f"balance: {workspace} is not a complete balance workspace: missing "
    assert (empty.exit_code, empty.output) == (
        1,
        f"{missing}household/members.csv, household/split_policies.csv; make them with "
        f"`balance init {workspace} --members alex,sam` (your members' ids)\n",
    )
    assert (inbox_only.exit_code, inbox_only.output) == (
        1,
        f"{missing}household/members.csv, household/split_policies.csv; make them with "
        f"`balance init {workspace} --members jo,pat`\n",
    )
    assert (members_only.exit_code, members_only.output) == (
        1,
        f"{missing}household/split_policies.csv; write it for the members of "
        f"household/members.csv with `balance init {workspace}`\n",
    )

    completed = invoke("init", str(workspace))
    assert completed.exit_code == 0, completed.output
    assert "  created household/split_policies.csv" in completed.output
    assert "  kept household/members.csv as it was" in completed.output
    assert (workspace / "household/split_policies.csv").read_text() == (
        "policy,member_id,weight,effective_from\ndefault,pat,1,\ndefault,jo,1,\n"
    )
    ingest = invoke("ingest", "--workspace", str(workspace))
    assert ingest.exit_code == 0, ingest.output
    assert ingest.output.splitlines()[-1] == "0 loaded, 0 rejected, 0 unchanged"
