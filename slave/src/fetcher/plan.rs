//! What to do with one `CommandInfo.URI`, decided without I/O (Mesos's
//! fetcher rules): where it comes from ([`Source`]: `http://`, `https://`,
//! `file://` or an absolute path), the name it gets in the sandbox (the
//! URI's basename, or `output_file`, a relative path that must stay in the
//! sandbox), whether it is unpacked ([`Archive`], by the name's extension,
//! when `extract` and not `executable`), and how a redirect is followed.
//!
//! Everything here is a pure function of its arguments, so every refusal
//! (an unsupported scheme, an `output_file` with `..`, a redirect loop) is
//! unit tested directly.

use std::path::{Component, Path, PathBuf};

use hyper::Uri;
use rmesos::info::CommandUri;

/// Where a URI's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `http://` or `https://` (the URL as given).
    Http(Uri),
    /// `file:///path` or `/path`: a file on this machine.
    File(PathBuf),
}

/// The archive formats unpacked into the sandbox (Mesos's list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archive {
    Tar,
    TarGz,
    TarBz2,
    TarXz,
    Zip,
    /// A single gzipped file (`x.gz` becomes `x`).
    Gz,
}

impl Archive {
    /// The format a file name says, if any (`.tar`, `.tar.gz`, `.tgz`,
    /// `.tar.bz2`, `.tbz2`, `.tar.xz`, `.txz`, `.zip`, `.gz`).
    pub fn of(name: &str) -> Option<Archive> {
        let n = name.to_ascii_lowercase();
        let ends = |s: &str| n.ends_with(s);
        if ends(".tar.gz") || ends(".tgz") {
            Some(Archive::TarGz)
        } else if ends(".tar.bz2") || ends(".tbz2") {
            Some(Archive::TarBz2)
        } else if ends(".tar.xz") || ends(".txz") {
            Some(Archive::TarXz)
        } else if ends(".tar") {
            Some(Archive::Tar)
        } else if ends(".zip") {
            Some(Archive::Zip)
        } else if ends(".gz") {
            Some(Archive::Gz)
        } else {
            None
        }
    }
}

/// One URI's fetch, planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The URI as the framework wrote it (for messages and the cache key).
    pub uri: String,
    pub source: Source,
    /// Where the fetched file goes, relative to the sandbox.
    pub name: PathBuf,
    /// Unpack into the sandbox (the archive itself is kept too, unless it
    /// comes from the cache).
    pub archive: Option<Archive>,
    pub executable: bool,
    pub cache: bool,
}

/// Plans `uri`; an `Err` is the "why" of `Failed to fetch '<uri>': <why>`.
pub fn plan(uri: &CommandUri) -> Result<Item, String> {
    let value = uri.value.trim();
    if value.is_empty() {
        return Err("the URI is empty".into());
    }
    let source = source(value)?;
    let name = match &uri.output_file {
        Some(out) => relative_inside(out).ok_or_else(|| {
            format!("output_file '{out}' must be a relative path inside the sandbox (no '..', not absolute)")
        })?,
        None => PathBuf::from(basename(value).ok_or_else(|| format!("cannot name a file after '{value}'"))?),
    };
    let archive = if uri.extract && !uri.executable { Archive::of(&name.to_string_lossy()) } else { None };
    Ok(Item { uri: value.to_string(), source, name, archive, executable: uri.executable, cache: uri.cache })
}

fn source(value: &str) -> Result<Source, String> {
    if let Some(path) = value.strip_prefix("file://") {
        if !path.starts_with('/') {
            return Err("a file:// URI needs an absolute path (file:///path)".into());
        }
        return Ok(Source::File(PathBuf::from(path)));
    }
    if value.starts_with('/') {
        return Ok(Source::File(PathBuf::from(value)));
    }
    let scheme = value.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("http") | Some("https") => {
            let url: Uri = value.parse().map_err(|e| format!("invalid URL: {e}"))?;
            if url.host().is_none_or(str::is_empty) {
                return Err("the URL has no host".into());
            }
            Ok(Source::Http(url))
        }
        Some(other) => Err(format!("unsupported URI scheme '{other}' (http, https, file or an absolute path)")),
        None => Err("a relative path cannot be fetched (use file:///path, an absolute path or a URL)".into()),
    }
}

/// The last path segment of a URI, as Mesos names a fetched file (a query
/// string stays in the name; `output_file` is the way out).
fn basename(value: &str) -> Option<String> {
    let path = match value.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map(|(_, p)| p).unwrap_or(""),
        None => value,
    };
    let last = path.rsplit('/').next().unwrap_or("");
    (!last.is_empty() && last != "." && last != "..").then(|| last.to_string())
}

/// `p` as a path relative to a root that cannot leave it: no `..`, not
/// absolute, not empty (`.` components dropped).
pub fn relative_inside(p: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(p).components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Whether a symbolic link at `entry` (relative to the root, already
/// checked with [`relative_inside`]) pointing at `target` stays inside the
/// root, resolved lexically from the link's directory.
pub fn link_stays_inside(entry: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth: Vec<&std::ffi::OsStr> = match entry.parent() {
        Some(dir) => {
            dir.components().filter_map(|c| if let Component::Normal(s) = c { Some(s) } else { None }).collect()
        }
        None => Vec::new(),
    };
    for c in target.components() {
        match c {
            Component::Normal(s) => depth.push(s),
            Component::CurDir => {}
            Component::ParentDir => {
                if depth.pop().is_none() {
                    return false;
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// Redirects followed at most (curl's `--max-redirs` in spirit; Mesos's
/// fetcher follows them with libcurl).
pub const MAX_REDIRECTS: u32 = 10;

/// The URL a redirect to `location` from `current` leads to, after `hops`
/// redirects already followed.
pub fn redirect(current: &Uri, location: &str, hops: u32) -> Result<Uri, String> {
    if hops >= MAX_REDIRECTS {
        return Err(format!("more than {MAX_REDIRECTS} redirects"));
    }
    let location = location.trim();
    if location.is_empty() {
        return Err("a redirect without a Location".into());
    }
    let lower = location.to_ascii_lowercase();
    let next = if lower.starts_with("http://") || lower.starts_with("https://") {
        location.to_string()
    } else if lower.contains("://") {
        return Err(format!("a redirect to an unsupported URL '{location}'"));
    } else {
        let scheme = current.scheme_str().unwrap_or("http");
        let authority = current.authority().map(|a| a.as_str()).unwrap_or("");
        let path = if location.starts_with('/') {
            location.to_string()
        } else {
            let base = current.path();
            let dir = &base[..base.rfind('/').map(|i| i + 1).unwrap_or(0)];
            format!("{}{location}", if dir.is_empty() { "/" } else { dir })
        };
        format!("{scheme}://{authority}{path}")
    };
    next.parse().map_err(|e| format!("a redirect to an invalid URL '{location}': {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(v: &str) -> CommandUri {
        CommandUri { value: v.into(), executable: false, extract: true, cache: false, output_file: None }
    }

    #[test]
    fn sources_names_and_archives() {
        let i = plan(&uri("http://127.0.0.1:8080/pkg/app.tar.gz")).unwrap();
        assert!(matches!(i.source, Source::Http(_)));
        assert_eq!((i.name, i.archive), (PathBuf::from("app.tar.gz"), Some(Archive::TarGz)));
        let i = plan(&uri("file:///opt/x.zip")).unwrap();
        assert_eq!((i.source, i.archive), (Source::File("/opt/x.zip".into()), Some(Archive::Zip)));
        assert_eq!(plan(&uri("/opt/run.sh")).unwrap().archive, None);
        for (n, a) in [
            ("a.tgz", Archive::TarGz),
            ("a.TAR.BZ2", Archive::TarBz2),
            ("a.tbz2", Archive::TarBz2),
            ("a.tar.xz", Archive::TarXz),
            ("a.txz", Archive::TarXz),
            ("a.tar", Archive::Tar),
            ("a.gz", Archive::Gz),
        ] {
            assert_eq!(Archive::of(n), Some(a), "{n}");
        }
        // A query string stays in the name (Mesos): not an archive any more.
        assert_eq!(plan(&uri("https://h/a.tgz?v=1")).unwrap().name, PathBuf::from("a.tgz?v=1"));
        assert_eq!(plan(&uri("https://h/a.tgz?v=1")).unwrap().archive, None);
    }

    #[test]
    fn executable_and_extract_and_output_file() {
        let mut u = uri("http://h/tool.tar");
        u.executable = true;
        let i = plan(&u).unwrap();
        assert!(i.executable && i.archive.is_none(), "executable ignores extract (Mesos)");
        let mut u = uri("http://h/a.tgz");
        u.extract = false;
        assert_eq!(plan(&u).unwrap().archive, None);
        let mut u = uri("http://h/download?id=3");
        u.output_file = Some("./bin/app.tgz".into());
        let i = plan(&u).unwrap();
        assert_eq!((i.name, i.archive), (PathBuf::from("bin/app.tgz"), Some(Archive::TarGz)));
    }

    #[test]
    fn refusals_say_why() {
        let why = |u: CommandUri| plan(&u).unwrap_err();
        assert!(why(uri("")).contains("empty"));
        assert!(why(uri("ftp://h/x")).contains("unsupported URI scheme 'ftp'"));
        assert!(why(uri("hdfs://h/x")).contains("unsupported"));
        assert!(why(uri("relative/x")).contains("relative path"));
        assert!(why(uri("file://x")).contains("absolute path"));
        assert!(why(uri("http://h/")).contains("cannot name"));
        assert!(why(uri("http:///x")).contains("host") || why(uri("http:///x")).contains("invalid"));
        for bad in ["../x", "/etc/x", "a/../../x", "", "."] {
            let mut u = uri("http://h/a");
            u.output_file = Some(bad.into());
            assert!(why(u).contains("output_file"), "{bad}");
        }
    }

    #[test]
    fn links_must_stay_inside() {
        assert!(link_stays_inside(Path::new("a/l"), Path::new("../b")));
        assert!(link_stays_inside(Path::new("l"), Path::new("./x/./y")));
        assert!(!link_stays_inside(Path::new("l"), Path::new("..")));
        assert!(!link_stays_inside(Path::new("a/l"), Path::new("../../etc/passwd")));
        assert!(!link_stays_inside(Path::new("l"), Path::new("/etc/passwd")));
        assert!(!link_stays_inside(Path::new("a/b/l"), Path::new("x/../../../..")));
    }

    #[test]
    fn redirects_resolve_and_are_bounded() {
        let cur: Uri = "http://h:8/dir/a.tgz".parse().unwrap();
        assert_eq!(redirect(&cur, "/b.tgz", 0).unwrap().to_string(), "http://h:8/b.tgz");
        assert_eq!(redirect(&cur, "c.tgz", 0).unwrap().to_string(), "http://h:8/dir/c.tgz");
        assert_eq!(redirect(&cur, "https://o/x", 0).unwrap().to_string(), "https://o/x");
        assert!(redirect(&cur, "ftp://o/x", 0).unwrap_err().contains("unsupported"));
        assert!(redirect(&cur, "", 0).unwrap_err().contains("Location"));
        assert!(redirect(&cur, "/x", MAX_REDIRECTS).unwrap_err().contains("more than 10 redirects"));
    }
}
