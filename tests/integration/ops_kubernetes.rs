//! `deploy/kubernetes/`: every manifest validates offline against the Kubernetes 1.33 API
//! schemas with `kubernetes-validate --strict` (PyPI, in the virtualenv scripts/test.sh makes
//! under target/), the kustomization lists exactly the files there (and `kubectl kustomize`,
//! where installed, renders it into manifests that validate too), and what no schema can see
//! holds: an Indexed Job whose completions, parallelism and SCANNER_SHARDS agree, the run id
//! from the Job's name, the exit code the pod failure policy names, NET_RAW the only
//! capability, non-root and read-only, probes whose `Host` api_server answers, a config.toml
//! the program loads and a targets.txt of loopback addresses only.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Command;

use security_scanner::api::host::AllowedHosts;
use security_scanner::target::{Target, parse_targets};

use crate::batch_env::describe;
use crate::kube_env::*;

#[test]
fn the_kustomization_lists_every_manifest_and_only_kustomize_fields() {
    let Some(bin) = venv_bin() else { return };
    let k = kustomization(&bin);
    assert_eq!(k["apiVersion"], "kustomize.config.k8s.io/v1beta1");
    assert_eq!(k["kind"], "Kustomization");
    for key in k.as_object().unwrap().keys() {
        assert!(
            KUSTOMIZE_FIELDS.contains(&key.as_str()),
            "kustomization.yaml: `{key}` is not a kustomize field"
        );
    }
    let listed: BTreeSet<PathBuf> = resource_files(&k).into_iter().collect();
    let present: BTreeSet<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "kustomization.yaml"))
        .collect();
    assert_eq!(listed, present, "resources: lists exactly the other files");
    assert_eq!(k["namespace"], NAMESPACE);
    let images = k["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "one place names the image");
    assert_eq!(images[0]["name"], IMAGE);
    // Every container uses the name the images: entry rewrites.
    let docs = manifests(&bin);
    let mut containers = 0;
    for doc in &docs {
        for c in containers_of(doc) {
            assert_eq!(c["image"], IMAGE, "{}", doc["metadata"]["name"]);
            containers += 1;
        }
    }
    assert_eq!(containers, 3, "scan, finalize, api");
    let ns = find(&docs, "Namespace", NAMESPACE);
    assert_eq!(ns["metadata"]["name"], NAMESPACE);
}

#[test]
fn manifests_validate_offline_against_the_kubernetes_schemas() {
    let Some(bin) = venv_bin() else { return };
    let files = resource_files(&kustomization(&bin));
    let documents = manifests(&bin).len();
    assert_eq!(documents, 7);
    validate(&bin, &files, documents).unwrap();

    // The validator bites: a misspelt field is refused under --strict.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("cronjob-scan.yaml");
    let text = std::fs::read_to_string(dir().join("cronjob-scan.yaml")).unwrap();
    assert!(text.contains("backoffLimitPerIndex:"));
    std::fs::write(
        &bad,
        text.replace("backoffLimitPerIndex:", "backoffLimitPerIndx:"),
    )
    .unwrap();
    let err = validate(&bin, &[bad], 1).unwrap_err();
    assert!(err.contains("backoffLimitPerIndx"), "{err}");

    // What `kubectl apply -k` sends, where kubectl is installed: rendered by its kustomize,
    // valid as a whole, every resource in the namespace, the image rewritten.
    let rendered = Command::new("kubectl")
        .args(["kustomize"])
        .arg(dir())
        .output();
    let Ok(rendered) = rendered else {
        eprintln!("note: kubectl not installed; the rendered kustomization was not validated");
        return;
    };
    assert!(rendered.status.success(), "{}", describe(&rendered));
    let file = tmp.path().join("rendered.yaml");
    std::fs::write(&file, &rendered.stdout).unwrap();
    let docs = yaml_to_json(&bin, std::slice::from_ref(&file));
    assert_eq!(docs.len(), documents);
    validate(&bin, &[file], documents).unwrap();
    let k = kustomization(&bin);
    let image = format!(
        "{}:{}",
        k["images"][0]["newName"].as_str().unwrap(),
        k["images"][0]["newTag"].as_str().unwrap()
    );
    for doc in &docs {
        if doc["kind"] != "Namespace" {
            assert_eq!(doc["metadata"]["namespace"], NAMESPACE, "{doc}");
        }
        for c in containers_of(doc) {
            assert_eq!(c["image"].as_str(), Some(image.as_str()));
        }
    }
}

#[test]
fn the_scan_cronjob_is_an_indexed_job_of_n_shards_named_after_the_job() {
    let Some(bin) = venv_bin() else { return };
    let docs = manifests(&bin);
    let cron = find(&docs, "CronJob", "security-scanner-scan");
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
    assert!(cron["spec"]["timeZone"].is_string());
    assert!(cron["spec"]["startingDeadlineSeconds"].as_i64().unwrap() > 0);
    let job = &cron["spec"]["jobTemplate"]["spec"];
    assert_eq!(job["completionMode"], "Indexed");
    let completions = job["completions"].as_i64().unwrap();
    assert!(completions >= 2, "sharded");
    assert_eq!(job["parallelism"].as_i64(), Some(completions));
    assert!(job["backoffLimitPerIndex"].as_i64().unwrap() >= 1);
    let pod = &job["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never", "podFailurePolicy needs it");
    let containers = containers_of(cron);
    assert_eq!(containers.len(), 1);
    let scan = containers[0];
    let shards = env(scan, "SCANNER_SHARDS").expect("SCANNER_SHARDS");
    assert_eq!(
        shards["value"].as_str(),
        Some(completions.to_string().as_str()),
        "SCANNER_SHARDS = completions = parallelism"
    );
    assert!(
        env(scan, "JOB_COMPLETION_INDEX").is_none(),
        "Kubernetes sets the index of an Indexed Job's pod"
    );
    assert_eq!(
        env(scan, "SCANNER_RUN_ID").unwrap()["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.labels['batch.kubernetes.io/job-name']",
        "every pod and retry of one Job is one run"
    );
    secret_ref(&docs, scan, "SCANNER_DATABASE");

    // The pod failure policy: exit 2 (daily_scan's configuration/database error, as its
    // --help documents) fails the index at once; disruptions are retried without counting.
    let help = Command::new(DAILY_SCAN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("2 usage, configuration or runtime error"),
        "{help}"
    );
    let rules = job["podFailurePolicy"]["rules"].as_array().unwrap();
    let fail_index = rules
        .iter()
        .find(|r| r["action"] == "FailIndex")
        .expect("a FailIndex rule");
    assert_eq!(fail_index["onExitCodes"]["containerName"], scan["name"]);
    assert_eq!(fail_index["onExitCodes"]["operator"], "In");
    assert_eq!(fail_index["onExitCodes"]["values"], serde_json::json!([2]));
    let ignore = rules
        .iter()
        .find(|r| r["action"] == "Ignore")
        .expect("an Ignore rule");
    assert_eq!(ignore["onPodConditions"][0]["type"], "DisruptionTarget");

    // The shard's command line: the targets and config files the ConfigMap mounts, flags
    // daily_scan has.
    let line = command_line(scan);
    assert_eq!(line[0], "daily_scan");
    flags_exist(DAILY_SCAN, &line);
    let config_dir = mount_of(cron, scan, "config");
    assert!(
        line.contains(&format!("{config_dir}/targets.txt")),
        "{line:?}"
    );
    assert!(
        line.contains(&format!("{config_dir}/config.toml")),
        "{line:?}"
    );

    // The safety net: hourly, same image, config and secret; the run's deadline is within
    // the time finalize waits before closing a run with shards missing.
    let finalize = find(&docs, "CronJob", "security-scanner-finalize");
    assert_eq!(finalize["spec"]["concurrencyPolicy"], "Forbid");
    let f = containers_of(finalize)[0];
    let line = command_line(f);
    assert_eq!(line[..4], ["daily_scan", "finalize", "--after", "3h"]);
    let help = Command::new(DAILY_SCAN)
        .args(["finalize", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--after <DURATION>") && help.contains("--config"),
        "{help}"
    );
    assert!(line.contains(&format!("{}/config.toml", mount_of(finalize, f, "config"))));
    secret_ref(&docs, f, "SCANNER_DATABASE");
    let deadline = job["activeDeadlineSeconds"].as_i64().unwrap();
    assert!(
        deadline <= duration_seconds(&line[3]),
        "activeDeadlineSeconds {deadline} > finalize --after {}",
        line[3]
    );
}

#[test]
fn every_pod_is_non_root_read_only_with_net_raw_its_only_capability() {
    let Some(bin) = venv_bin() else { return };
    let docs = manifests(&bin);
    let config = pod_config(&docs, &[]).unwrap();
    let mut checked = 0;
    for doc in &docs {
        let Some(pod) = pod_spec(doc) else { continue };
        let name = doc["metadata"]["name"].as_str().unwrap();
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
        assert_eq!(
            pod["securityContext"]["runAsUser"], 10001,
            "{name}: the image's scanner"
        );
        assert_eq!(pod["automountServiceAccountToken"], false, "{name}");
        for c in containers_of(doc) {
            let sc = &c["securityContext"];
            assert_eq!(sc["runAsNonRoot"], true, "{name}");
            assert_eq!(sc["runAsUser"], 10001, "{name}");
            assert_eq!(sc["readOnlyRootFilesystem"], true, "{name}");
            assert_ne!(sc["privileged"], true, "{name}");
            assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{name}");
            assert_eq!(
                sc["capabilities"]["drop"],
                serde_json::json!(["ALL"]),
                "{name}"
            );
            let added = &sc["capabilities"]["add"];
            // Escalation (nmap's file capability) only where NET_RAW, and nothing else, can
            // be gained: see cronjob-scan.yaml.
            if sc["allowPrivilegeEscalation"] != false {
                assert_eq!(*added, serde_json::json!(["NET_RAW"]), "{name}");
            } else {
                assert!(added.is_null(), "{name}");
            }
            for kind in ["requests", "limits"] {
                for resource in ["cpu", "memory"] {
                    assert!(
                        c["resources"][kind][resource].is_string(),
                        "{name}: resources.{kind}.{resource}"
                    );
                }
            }
            // What the programs write is writable: the report folders and /tmp.
            let output_dir = config.output_dir.to_str().unwrap();
            for path in [output_dir, "/tmp"] {
                assert!(
                    volume_at(doc, c, path)["emptyDir"].is_object(),
                    "{name}: {path} is an emptyDir"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 3);
}

#[test]
fn the_configmap_loads_and_scans_only_loopback() {
    let Some(bin) = venv_bin() else { return };
    let docs = manifests(&bin);
    let secret = find(&docs, "Secret", "security-scanner-secrets");
    let url = secret["stringData"]["database-url"].as_str().unwrap();
    assert!(url.contains("REPLACE_ME"), "a placeholder, never a secret");
    let config = pod_config(&docs, &[("SCANNER_DATABASE", url)]).unwrap();
    assert!(
        matches!(
            config.database(),
            security_scanner::config::Database::Postgres(_)
        ),
        "shards meet in PostgreSQL"
    );
    for net in &config.allowed_networks {
        assert!(
            net.network().is_loopback() && net.broadcast().is_loopback(),
            "{net}"
        );
    }
    // The placeholder token cannot go live: api_server refuses to start with it.
    let token = secret["stringData"]["api-tokens"].as_str().unwrap();
    let err = pod_config(&docs, &[("SCANNER_API_TOKENS", token)]).unwrap_err();
    assert!(err.contains("SCANNER_API_TOKENS"), "{err}");

    let text = config_map(&docs)["data"]["targets.txt"].as_str().unwrap();
    let entries = parse_targets(text, "targets.txt").unwrap();
    assert!(!entries.is_empty());
    for target in entries.iter().flat_map(|e| &e.targets) {
        let loopback = |ip: &IpAddr| ip.is_loopback();
        let ok = match target {
            Target::Ip(ip) => loopback(ip),
            Target::Network(net) => loopback(&net.network()) && loopback(&net.broadcast()),
            Target::Range { start, end } => loopback(start) && loopback(end),
            Target::Hostname(_) => false,
        };
        assert!(ok, "{target:?}: the examples name loopback addresses only");
    }
}

#[test]
fn api_server_probes_and_service_reach_it_by_names_it_answers() {
    let Some(bin) = venv_bin() else { return };
    let docs = manifests(&bin);
    let deployment = find(&docs, "Deployment", "security-scanner-api");
    assert_eq!(deployment["spec"]["replicas"], 2);
    let api = containers_of(deployment)[0];
    let line = command_line(api);
    assert_eq!(line[0], "api_server");
    flags_exist(API_SERVER, &line);
    secret_ref(&docs, api, "SCANNER_DATABASE");
    secret_ref(&docs, api, "SCANNER_API_TOKENS");
    let bind = env(api, "SCANNER_BIND").unwrap()["value"].as_str().unwrap();
    let config = pod_config(&docs, &[("SCANNER_BIND", bind)]).unwrap();
    let port = config.api.bind.rsplit_once(':').unwrap().1;
    let ports = api["ports"].as_array().unwrap();
    let http = ports.iter().find(|p| p["name"] == "http").unwrap();
    assert_eq!(
        http["containerPort"].to_string(),
        port,
        "listens where declared"
    );

    let allowed = AllowedHosts::from_config(&config.api);
    for probe in ["readinessProbe", "livenessProbe"] {
        let get = &api[probe]["httpGet"];
        assert_eq!(get["path"], "/api/health", "{probe}");
        assert_eq!(get["port"], "http", "{probe}");
        let host = get["httpHeaders"]
            .as_array()
            .and_then(|h| h.iter().find(|h| h["name"] == "Host"))
            .unwrap_or_else(|| panic!("{probe}: a Host header (the pod IP would get 421)"));
        let host = host["value"].as_str().unwrap();
        assert!(allowed.check(Some(host)).is_ok(), "{probe}: Host {host}");
    }
    assert!(
        allowed.check(Some("127.0.0.5:5000")).is_err(),
        "the guard is on: an address not listed, as the pod's IP would be, is refused"
    );

    let service = find(&docs, "Service", "security-scanner-api");
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    for (key, value) in service["spec"]["selector"].as_object().unwrap() {
        assert_eq!(&labels[key], value, "the Service selects the api pods");
    }
    let service_port = &service["spec"]["ports"][0];
    assert_eq!(service_port["targetPort"], "http");
    let service_port = service_port["port"].as_i64().unwrap();
    let name = "security-scanner-api";
    for host in [
        name.to_string(),
        format!("{name}.{NAMESPACE}"),
        format!("{name}.{NAMESPACE}.svc"),
        format!("{name}.{NAMESPACE}.svc.cluster.local"),
    ] {
        for with_port in [host.clone(), format!("{host}:{service_port}")] {
            assert!(
                allowed.check(Some(&with_port)).is_ok(),
                "clients of the Service send Host {with_port}"
            );
        }
    }
}
