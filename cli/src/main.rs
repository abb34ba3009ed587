//! `rmesos`: the operator's command line, in the manner of the `mesos` CLI
//! and mesos-ps / mesos-cat / mesos-tail, over the master's and slaves'
//! Mesos endpoints only (`/state-summary`, `/frameworks`, `/tasks`,
//! `/slaves`, `/teardown`; a slave's `/state` and `/files/read`), so it
//! works against Mesos too.
//!
//! Exit codes: 0 done; 2 bad input (clap's usage errors, a bad `--master`,
//! an unknown task or framework), one line on stderr; 1 the cluster cannot
//! be reached (or answered with an error).

mod commands;
mod http;
mod leader;
mod table;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "rmesos", version, about = "The rmesos operator CLI: agents, frameworks, tasks and their sandboxes.")]
struct Cli {
    /// The master: host:port, ip:port, zk://host:port[,host:port...]/path, or
    /// a file holding one (the leader is found through a standby's
    /// /redirect or through ZooKeeper)
    #[arg(long, env = "RMESOS_MASTER", default_value = "127.0.0.1:5050", global = true)]
    master: String,

    /// JSON on stdout (the endpoints' own objects) instead of a table
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand, Debug)]
enum What {
    /// Agents (slaves)
    Agent {
        #[command(subcommand)]
        cmd: AgentCmd,
    },
    /// Frameworks
    Framework {
        #[command(subcommand)]
        cmd: FrameworkCmd,
    },
    /// Tasks and their sandboxes
    Task {
        #[command(subcommand)]
        cmd: TaskCmd,
    },
}

#[derive(Subcommand, Debug)]
enum AgentCmd {
    /// The registered agents
    List,
}

#[derive(Subcommand, Debug)]
enum FrameworkCmd {
    /// The registered frameworks
    List,
    /// Ends a framework (POST /master/teardown): its tasks are killed
    Teardown { id: String },
}

#[derive(Subcommand, Debug)]
enum TaskCmd {
    /// Running tasks (--all: completed ones too)
    List {
        #[arg(long)]
        all: bool,
    },
    /// Prints a file of the task's sandbox (stdout by default)
    Cat {
        task: String,
        #[arg(default_value = "stdout", value_parser = ["stdout", "stderr"])]
        file: String,
    },
    /// The last lines of the task's stdout; -f follows it
    Tail {
        task: String,
        #[arg(short = 'f', long)]
        follow: bool,
        /// Lines shown
        #[arg(short = 'n', long, default_value_t = 10)]
        lines: usize,
        #[arg(long, default_value = "stdout", value_parser = ["stdout", "stderr"])]
        file: String,
    },
}

fn main() {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rmesos: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let result = rt.block_on(async {
        let master = leader::find(&cli.master).await?;
        let json = cli.json;
        match cli.what {
            What::Agent { cmd: AgentCmd::List } => commands::agents(&master, json).await,
            What::Framework { cmd: FrameworkCmd::List } => commands::frameworks(&master, json).await,
            What::Framework { cmd: FrameworkCmd::Teardown { id } } => commands::teardown(&master, &id).await,
            What::Task { cmd: TaskCmd::List { all } } => commands::tasks(&master, all, json).await,
            What::Task { cmd: TaskCmd::Cat { task, file } } => commands::cat(&master, &task, &file).await,
            What::Task { cmd: TaskCmd::Tail { task, follow, lines, file } } => {
                commands::tail(&master, &task, &file, lines, follow).await
            }
        }
    });
    match result {
        Ok(()) => {}
        Err(http::Error::Input(e)) => {
            eprintln!("rmesos: {e}");
            std::process::exit(2);
        }
        Err(http::Error::Unreachable(e) | http::Error::Bad(e)) => {
            eprintln!("rmesos: {e}");
            std::process::exit(1);
        }
    }
}
