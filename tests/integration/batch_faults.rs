//! A failed, hung or removed target is "not compared", never gone or closed; a run where every
//! target failed exits 1; a profile change starts a new baseline. nmap is a wrapper that runs
//! the real nmap except for the target a test picks. Addresses 127.0.11.x are this test's.

use std::net::Ipv4Addr;

use serde_json::json;

use crate::batch_env::{Install, Service, changes, faulty_nmap, not_compared, stderr};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 11, 1);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 11, 2);

fn target_status(run: &crate::batch_env::Run, target: &str) -> (String, String) {
    let scan = run.json("scan.json");
    let t = scan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == target)
        .unwrap_or_else(|| panic!("no target {target} in {scan}"));
    (
        t["status"].as_str().unwrap().to_string(),
        t["error"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn failures_timeouts_and_removed_targets_are_not_compared() {
    let nmap = faulty_nmap();
    // One address per nmap run, so a fault hits one target; 3 s until a hung nmap is killed.
    let install = Install::new(
        "18080,18081",
        &format!("nmap_path = \"{}\"\nnmap_timeout = 3", nmap.display()),
        "profile = \"quick\"\nchunk_size = 1",
    );
    let all = ["127.0.11.1", "127.0.11.2"];
    install.targets(&all);
    let a_web = Service::start(A, 18080, None);
    let _b_web = Service::start(B, 18081, None);

    let run1 = install.scan(&[], &[], 0);
    assert_eq!(run1.delta()["status"], "stable");
    assert_eq!(run1.json("scan.json")["status"], "complete");

    // The entry is removed from targets.txt: not "gone", and its open port is not "closed".
    install.targets(&all[..1]);
    let run2 = install.scan(&[], &[], 0);
    let d = run2.delta();
    assert_eq!(changes(&d), Vec::<String>::new(), "{d}");
    assert_eq!(not_compared(&d), ["127.0.11.2 target_removed"]);
    assert_eq!(d["status"], "stable");

    // Back in the file, but its nmap run fails.
    install.targets(&all);
    let fail = [("FAKE_NMAP_FAIL", "127.0.11.2")];
    let run3 = install.scan(&[], &fail, 0);
    let d = run3.delta();
    assert_eq!(changes(&d), Vec::<String>::new(), "{d}");
    assert_eq!(not_compared(&d), ["127.0.11.2 failed"]);
    let (status, error) = target_status(&run3, "127.0.11.2");
    assert_eq!(status, "failed");
    assert!(error.contains("nmap run 2 of 2 failed"), "{error}");
    assert_eq!(target_status(&run3, "127.0.11.1").0, "completed");
    assert_eq!(run3.json("scan.json")["status"], "partial");
    assert!(stderr(&run3.out).contains("nmap run 2 of 2 failed"));
    assert!(
        run3.text()
            .contains("127.0.11.2  failed: the scan failed in this run")
    );

    // Its nmap hangs and is killed at the timeout; meanwhile a real change on the healthy
    // target is still reported.
    drop(a_web);
    let hang = [("FAKE_NMAP_HANG", "127.0.11.2")];
    let run4 = install.scan(&[], &hang, 0);
    let d = run4.delta();
    assert_eq!(
        changes(&d),
        ["port_closed info 127.0.11.1 18080/tcp"],
        "{d}"
    );
    assert_eq!(not_compared(&d), ["127.0.11.2 timeout"]);
    let (status, error) = target_status(&run4, "127.0.11.2");
    assert_eq!(status, "timeout");
    assert!(error.contains("did not finish within 3 s"), "{error}");

    // Every target fails: exit 1, and still nothing reads as gone or closed.
    let run5 = install.scan(&[], &[("FAKE_NMAP_FAIL", "all")], 1);
    let d = run5.delta();
    assert_eq!(changes(&d), Vec::<String>::new(), "{d}");
    assert_eq!(not_compared(&d), ["127.0.11.1 failed", "127.0.11.2 failed"]);
    assert_eq!(
        d["score"]["overall"],
        json!(null),
        "nothing scanned, nothing scored"
    );
    assert_eq!(run5.json("scan.json")["status"], "failed");

    // Another profile is a new baseline, not a flood of closures. `-sV` waits on the silent
    // listener for several seconds, longer than the 3 s above on a loaded machine.
    let patient = [("SCANNER_NMAP_TIMEOUT", "120")];
    let run6 = install.scan(&["--profile", "default"], &patient, 0);
    let d = run6.delta();
    assert_eq!(d["from"], json!(null), "{d}");
    assert_eq!(d["to"]["profile"], "default+ports=18080-18081");
    assert!(d["note"].as_str().unwrap().starts_with("baseline"), "{d}");
    assert_eq!(changes(&d), Vec::<String>::new());
    // Another port selection of the same profile is compared with its latest run (here run 5,
    // in which everything failed: nothing to compare, and nothing reported).
    let run7 = install.scan(&["--ports", "18081"], &patient, 0);
    let d = run7.delta();
    assert_eq!(
        (d["from"]["snapshot"].clone(), changes(&d).len()),
        (json!(5), 0),
        "{d}"
    );
    assert_eq!(d["to"]["profile"], "quick+ports=18081");
}
