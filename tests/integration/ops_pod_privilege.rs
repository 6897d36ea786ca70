//! The scanning pods' security context (`deploy/kubernetes/cronjob-scan.yaml`), reproduced
//! with `setpriv` as a container runtime applies it to a non-root container: the user of
//! `runAsUser`, the bounding set of `capabilities` (drop ALL, add NET_RAW), no ambient or
//! inheritable capabilities, and `no_new_privs` exactly when `allowPrivilegeEscalation` is
//! false. nmap carries `cap_net_raw+eip` as a file capability, as the Dockerfile sets it.
//! What the manifest says lets daily_scan's SYN scan find an open port; with no_new_privs
//! (what `allowPrivilegeEscalation: false` would set) the same scan fails, reported as a
//! failed target and never as a closed port. 127.0.46.x are this file's.

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::batch_env::{Install, Service, describe};
use crate::kube_env::{DAILY_SCAN, find, manifests, venv_bin};

/// A copy of the system's nmap in `dir` with the image's file capability.
fn nmap_with_file_capability(dir: &Path) -> Option<std::path::PathBuf> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let nmap = dir.join("nmap");
    let which = Command::new("sh")
        .args(["-c", "command -v nmap"])
        .output()
        .unwrap();
    let system = String::from_utf8_lossy(&which.stdout).trim().to_string();
    std::fs::copy(&system, &nmap).unwrap();
    let out = Command::new("setcap")
        .args(["cap_net_raw+eip"])
        .arg(&nmap)
        .output();
    match out {
        Ok(out) if out.status.success() => Some(nmap),
        // setcap needs root (CAP_SETFCAP): CI runs as root.
        Ok(out) if !ci => {
            eprintln!(
                "skipped: setcap failed ({}); with CI=true this fails",
                describe(&out)
            );
            None
        }
        Err(e) if !ci => {
            eprintln!("skipped: no setcap (libcap2-bin): {e}; with CI=true this fails");
            None
        }
        other => panic!("setcap cap_net_raw+eip on a copy of nmap: {other:?}"),
    }
}

/// daily_scan's stealth run of `targets.txt` in `install`, under the security context.
fn run_as_pod(install: &Install, user: u64, add: &[String], no_new_privs: bool) -> Output {
    let bounding = add
        .iter()
        .map(|c| format!(",+{}", c.to_ascii_lowercase()))
        .collect::<String>();
    let mut cmd = Command::new("setpriv");
    cmd.arg(format!("--reuid={user}"))
        .arg(format!("--regid={user}"))
        .args(["--clear-groups", "--inh-caps=-all", "--ambient-caps=-all"])
        .arg(format!("--bounding-set=-all{bounding}"));
    if no_new_privs {
        cmd.arg("--no-new-privs");
    }
    cmd.arg(DAILY_SCAN)
        .arg("--config")
        .arg(install.path("config.toml"))
        .args(["-f", "targets.txt", "--no-tls"])
        .current_dir(install.dir.path())
        // As the image sets it: nmap holds NET_RAW through its file capability.
        .env("NMAP_PRIVILEGED", "1")
        .output()
        .expect("setpriv (util-linux)")
}

#[test]
fn the_scan_pods_security_context_lets_nmap_syn_scan_and_no_new_privs_would_not() {
    let Some(bin) = venv_bin() else { return };
    let docs = manifests(&bin);
    let cron = find(&docs, "CronJob", "security-scanner-scan");
    let pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let sc = &pod["containers"][0]["securityContext"];
    let user = sc["runAsUser"].as_u64().unwrap();
    assert_ne!(user, 0);
    assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
    let add: Vec<String> = sc["capabilities"]["add"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let escalation = sc["allowPrivilegeEscalation"] != false;

    let tools = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tools.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let Some(nmap) = nmap_with_file_capability(tools.path()) else {
        return;
    };
    let svc = Service::start(Ipv4Addr::new(127, 0, 46, 1), 0, None);
    let install = Install::new(
        &svc.port().to_string(),
        &format!("nmap_path = \"{}\"", nmap.display()),
        "profile = \"stealth\"\nconfirm = false",
    );
    install.targets(&["127.0.46.1"]);
    std::fs::set_permissions(install.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();

    // As the manifest says.
    let out = run_as_pod(&install, user, &add, !escalation);
    assert!(out.status.success(), "{}", describe(&out));
    let scan = install.latest_scan_text();
    assert!(
        scan.contains("-sS") && scan.contains("--privileged"),
        "{scan}"
    );
    let open = install.latest_scan_has_open(svc.port());
    assert!(open, "the SYN scan found the open port: {scan}");

    // With allowPrivilegeEscalation: false the file capability is withheld: nmap cannot open
    // a raw socket, and the target fails (exit 1), never "closed".
    let out = run_as_pod(&install, user, &add, true);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
}
