//! The subcommands: each reads the endpoints it needs and prints a table
//! (or, with `--json`, the endpoints' own objects).

use std::io::Write;
use std::time::Duration;

use serde_json::Value;

use crate::http::{self, encode, get_json, Error};
use crate::table;

/// Page size when reading `/tasks`.
const TASKS_PAGE: usize = 1000;
/// Bytes asked per `/files/read` (the slave serves at most 1 MiB).
const READ_CHUNK: u64 = 1024 * 1024;
/// How far back `tail` looks for its lines.
const TAIL_WINDOW: u64 = 64 * 1024;
/// Time between polls of `tail -f`.
const FOLLOW_INTERVAL: Duration = Duration::from_secs(1);

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn print(head: &[&str], rows: Vec<Vec<String>>) {
    let out = table::render(head, &rows, table::width());
    let _ = std::io::stdout().write_all(out.as_bytes());
}

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

pub async fn agents(master: &str, json: bool) -> Result<(), Error> {
    let summary = get_json(master, "/master/state-summary").await?;
    if json {
        print_json(&summary["slaves"]);
        return Ok(());
    }
    let rows = arr(&summary["slaves"])
        .iter()
        .map(|a| {
            vec![
                s(&a["id"]),
                s(&a["hostname"]),
                if a["active"] == true { "yes" } else { "no" }.to_string(),
                format!("{}/{}", num(&a["used_resources"]["cpus"]), num(&a["resources"]["cpus"])),
                format!("{}/{}", num(&a["used_resources"]["mem"]), num(&a["resources"]["mem"])),
                s(&a["TASK_RUNNING"]),
            ]
        })
        .collect();
    print(&["ID", "HOSTNAME", "ACTIVE", "CPUS", "MEM (MB)", "RUNNING"], rows);
    Ok(())
}

pub async fn frameworks(master: &str, json: bool) -> Result<(), Error> {
    let fws = get_json(master, "/master/frameworks").await?;
    if json {
        print_json(&fws["frameworks"]);
        return Ok(());
    }
    let rows = arr(&fws["frameworks"])
        .iter()
        .map(|f| {
            vec![
                s(&f["id"]),
                s(&f["name"]),
                s(&f["user"]),
                if f["active"] == true { "yes" } else { "no" }.to_string(),
                arr(&f["tasks"]).len().to_string(),
                num(&f["used_resources"]["cpus"]).to_string(),
                num(&f["used_resources"]["mem"]).to_string(),
            ]
        })
        .collect();
    print(&["ID", "NAME", "USER", "ACTIVE", "TASKS", "CPUS", "MEM (MB)"], rows);
    Ok(())
}

/// Every task `/tasks` lists (paged), newest first.
async fn all_tasks(master: &str, query: &str) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    loop {
        let page = get_json(master, &format!("/master/tasks?limit={TASKS_PAGE}&offset={}{query}", out.len())).await?;
        let got = arr(&page["tasks"]).to_vec();
        let n = got.len();
        out.extend(got);
        if n < TASKS_PAGE {
            return Ok(out);
        }
    }
}

fn terminal(state: &str) -> bool {
    matches!(
        state,
        "TASK_FINISHED"
            | "TASK_FAILED"
            | "TASK_KILLED"
            | "TASK_ERROR"
            | "TASK_LOST"
            | "TASK_DROPPED"
            | "TASK_GONE"
            | "TASK_GONE_BY_OPERATOR"
    )
}

pub async fn tasks(master: &str, all: bool, json: bool) -> Result<(), Error> {
    let tasks: Vec<Value> = all_tasks(master, "")
        .await?
        .into_iter()
        .filter(|t| all || !terminal(t["state"].as_str().unwrap_or("")))
        .collect();
    if json {
        print_json(&Value::Array(tasks));
        return Ok(());
    }
    let rows = tasks
        .iter()
        .map(|t| vec![s(&t["id"]), s(&t["name"]), s(&t["state"]), s(&t["framework_id"]), s(&t["slave_id"])])
        .collect();
    print(&["ID", "NAME", "STATE", "FRAMEWORK", "AGENT"], rows);
    Ok(())
}

pub async fn teardown(master: &str, id: &str) -> Result<(), Error> {
    let a = http::request(master, "POST", "/master/teardown", Some(format!("frameworkId={}", encode(id)))).await?;
    let why = String::from_utf8_lossy(&a.body).trim().to_string();
    match a.status {
        200 => {
            println!("Framework {id} torn down");
            Ok(())
        }
        400 => Err(Error::Input(format!("framework {id}: {why}"))),
        _ => Err(Error::Bad(format!("POST /master/teardown: {} {why}", a.status))),
    }
}

/// The task's agent (`ip:port`) and the path of `file` in its sandbox.
async fn sandbox_file(master: &str, task: &str, file: &str) -> Result<(String, String), Error> {
    let found = all_tasks(master, &format!("&task_id={}", encode(task))).await?;
    let Some(t) = found.first() else { return Err(Error::Input(format!("no task '{task}' at the master"))) };
    let (fid, sid, eid) = (s(&t["framework_id"]), s(&t["slave_id"]), s(&t["executor_id"]));
    let slaves = get_json(master, &format!("/master/slaves?slave_id={}", encode(&sid))).await?;
    let pid = s(&slaves["slaves"][0]["pid"]);
    let Some((_, agent)) = pid.split_once('@') else {
        return Err(Error::Bad(format!("task '{task}': its agent {sid} is not registered")));
    };
    let state = get_json(agent, "/state").await?;
    let fws = arr(&state["frameworks"]).iter().chain(arr(&state["completed_frameworks"]));
    let has_task = |e: &Value| {
        ["tasks", "queued_tasks", "completed_tasks"]
            .iter()
            .flat_map(|k| arr(&e[*k]))
            .any(|t| s(&t["id"]) == task || s(&t["task_id"]) == task)
    };
    let executor = fws
        .filter(|f| s(&f["id"]) == fid)
        .flat_map(|f| arr(&f["executors"]).iter().chain(arr(&f["completed_executors"])))
        .find(|e| (!eid.is_empty() && s(&e["id"]) == eid) || has_task(e));
    let Some(e) = executor else {
        return Err(Error::Bad(format!("task '{task}': agent {agent} no longer has its sandbox")));
    };
    Ok((agent.to_string(), format!("{}/{file}", s(&e["directory"]))))
}

/// `{data, offset}` of one `/files/read`.
async fn read(agent: &str, path: &str, offset: i64, length: u64) -> Result<(String, u64), Error> {
    let q = format!("/files/read?path={}&offset={offset}&length={length}", encode(path));
    let v = get_json(agent, &q).await?;
    Ok((s(&v["data"]), v["offset"].as_u64().unwrap_or(0)))
}

pub async fn cat(master: &str, task: &str, file: &str) -> Result<(), Error> {
    let (agent, path) = sandbox_file(master, task, file).await?;
    let mut offset = 0u64;
    let mut out = std::io::stdout();
    loop {
        let (data, at) = read(&agent, &path, offset as i64, READ_CHUNK).await?;
        if data.is_empty() {
            return Ok(());
        }
        let _ = out.write_all(data.as_bytes());
        offset = at + data.len() as u64;
    }
}

pub async fn tail(master: &str, task: &str, file: &str, lines: usize, follow: bool) -> Result<(), Error> {
    let (agent, path) = sandbox_file(master, task, file).await?;
    let (_, size) = read(&agent, &path, -1, 0).await?;
    let from = size.saturating_sub(TAIL_WINDOW);
    let (data, _) = read(&agent, &path, from as i64, size - from).await?;
    let all: Vec<&str> = data.split_inclusive('\n').collect();
    let mut out = std::io::stdout();
    for l in &all[all.len().saturating_sub(lines)..] {
        let _ = out.write_all(l.as_bytes());
    }
    let _ = out.flush();
    if !follow {
        return Ok(());
    }
    let mut offset = size;
    loop {
        tokio::time::sleep(FOLLOW_INTERVAL).await;
        let (data, at) = read(&agent, &path, offset as i64, READ_CHUNK).await?;
        if !data.is_empty() {
            let _ = out.write_all(data.as_bytes());
            let _ = out.flush();
            offset = at + data.len() as u64;
        }
    }
}
