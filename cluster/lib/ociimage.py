#!/usr/bin/env python3
"""Write a container image as an OCI image-layout tarball, with no engine and no registry.

The tarball can be loaded with `ctr -n k8s.io images import FILE` (and `docker load`, which
reads the docker-compatible manifest.json written beside the OCI index). Layers are gzipped tar
files; their entries are written in sorted order with fixed times and owners (unless taken from
an existing tar), so the same inputs give the same image digest.

  ociimage.py --name laravel-ops.local/pause:1 --out pause.tar \
      --file /path/to/pause:/pause:0755 --entrypoint '["/pause"]' --user 65535:65535

Layers, in order: every --layer-tar (an existing tar of a root filesystem, taken as is except
for the --exclude patterns) and then one layer with all --file and --dir entries.
"""

import argparse
import fnmatch
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

EPOCH = 0  # fixed mtime of the entries this script creates


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Blobs:
    """Blobs written into a temporary directory, named by digest."""

    def __init__(self, root):
        self.dir = os.path.join(root, "blobs", "sha256")
        os.makedirs(self.dir, exist_ok=True)

    def add_bytes(self, data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.dir, digest), "wb") as f:
            f.write(data)
        return digest, len(data)

    def add_layer(self, write_tar):
        """Call write_tar(tarfile) to fill a layer; return (blob digest, size, diff id)."""
        raw = os.path.join(self.dir, ".layer.tar")
        with tarfile.open(raw, "w", format=tarfile.PAX_FORMAT) as tf:
            write_tar(tf)
        diff_id = sha256_file(raw)
        gz = os.path.join(self.dir, ".layer.tar.gz")
        with open(raw, "rb") as src, open(gz, "wb") as dst:
            # mtime=0 and no file name: the gzip header does not vary between builds
            with gzip.GzipFile(fileobj=dst, mode="wb", compresslevel=6, mtime=0, filename="") as z:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    z.write(chunk)
        os.unlink(raw)
        digest = sha256_file(gz)
        size = os.path.getsize(gz)
        os.replace(gz, os.path.join(self.dir, digest))
        return digest, size, diff_id


def excluded(name, patterns):
    name = name.lstrip("./")
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def copy_tar(src_path, patterns):
    def write(tf):
        with tarfile.open(src_path, "r:*") as src:
            for m in src:
                if excluded(m.name, patterns):
                    continue
                if m.isfile():
                    tf.addfile(m, src.extractfile(m))
                else:
                    tf.addfile(m)
    return write


def parse_spec(spec, what):
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        sys.exit(f"ociimage: bad {what} {spec!r}: want SRC:DEST[:MODE]")
    mode = int(parts[2], 8) if len(parts) == 3 else None
    return parts[0], parts[1].lstrip("/"), mode


def add_parents(tf, seen, path):
    parts = path.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        d = "/".join(parts[:i])
        if d and d not in seen:
            seen.add(d)
            ti = tarfile.TarInfo(d)
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o755
            ti.mtime = EPOCH
            tf.addfile(ti)


def files_layer(files, dirs, texts):
    def write(tf):
        seen = set()
        entries = []
        for src, dest, mode in files:
            entries.append((dest, "file", src, mode))
        for src, dest, mode in dirs:
            for root, subdirs, names in os.walk(src):
                subdirs.sort()
                rel = os.path.relpath(root, src)
                base = dest if rel == "." else f"{dest}/{rel}".lstrip("/")
                if base:
                    entries.append((base, "dir", root, mode))
                for n in sorted(names):
                    entries.append((f"{base}/{n}".lstrip("/"), "file", os.path.join(root, n), None))
        for dest, content, mode in texts:
            entries.append((dest, "text", content, mode))
        for dest, kind, src, mode in sorted(entries, key=lambda e: e[0]):
            add_parents(tf, seen, dest)
            ti = tarfile.TarInfo(dest)
            ti.mtime = EPOCH
            if kind == "dir":
                if dest in seen:
                    continue
                seen.add(dest)
                ti.type = tarfile.DIRTYPE
                ti.mode = mode if mode is not None else 0o755
                tf.addfile(ti)
            elif kind == "text":
                data = src.encode()
                ti.size = len(data)
                ti.mode = mode if mode is not None else 0o644
                tf.addfile(ti, io.BytesIO(data))
            else:
                st = os.stat(src)
                ti.size = st.st_size
                ti.mode = mode if mode is not None else (st.st_mode & 0o7777)
                with open(src, "rb") as f:
                    tf.addfile(ti, f)
    return write


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", required=True, help="full image reference, e.g. laravel-ops.local/pause:1")
    ap.add_argument("--out", required=True, help="the tarball to write")
    ap.add_argument("--layer-tar", action="append", default=[], help="a root filesystem tar, one layer each")
    ap.add_argument("--exclude", action="append", default=[], help="glob of paths to leave out of --layer-tar")
    ap.add_argument("--file", action="append", default=[], help="SRC:DEST[:MODE] a file of the last layer")
    ap.add_argument("--dir", action="append", default=[], help="SRC:DEST[:MODE] a directory tree of the last layer")
    ap.add_argument("--text", action="append", default=[], help="DEST:MODE:CONTENT a small file written from text")
    ap.add_argument("--entrypoint", default=None, help="JSON list")
    ap.add_argument("--cmd", default=None, help="JSON list")
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE")
    ap.add_argument("--user", default="")
    ap.add_argument("--workdir", default="/")
    ap.add_argument("--label", action="append", default=[], help="KEY=VALUE")
    ap.add_argument("--expose", action="append", default=[], help="PORT/PROTO")
    ap.add_argument("--arch", default="amd64")
    args = ap.parse_args()

    ref = args.name
    if ":" not in ref.rsplit("/", 1)[-1]:
        sys.exit(f"ociimage: {ref!r} has no tag")
    tag = ref.rsplit(":", 1)[1]

    work = args.out + ".d"
    if os.path.exists(work):
        import shutil
        shutil.rmtree(work)
    os.makedirs(work)
    blobs = Blobs(work)

    layers = []
    for t in args.layer_tar:
        layers.append(blobs.add_layer(copy_tar(t, args.exclude)))
    files = [parse_spec(s, "--file") for s in args.file]
    dirs = [parse_spec(s, "--dir") for s in args.dir]
    texts = []
    for s in args.text:
        dest, mode, content = s.split(":", 2)
        texts.append((dest.lstrip("/"), content, int(mode, 8)))
    if files or dirs or texts:
        layers.append(blobs.add_layer(files_layer(files, dirs, texts)))
    if not layers:
        sys.exit("ociimage: the image has no layer")

    env = args.env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    if not any(e.startswith("PATH=") for e in env):
        env.insert(0, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    config = {
        "architecture": args.arch,
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Env": env, "WorkingDir": args.workdir},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{d[2]}" for d in layers]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "cluster/lib/ociimage.py"} for _ in layers],
    }
    if args.entrypoint:
        config["config"]["Entrypoint"] = json.loads(args.entrypoint)
    if args.cmd:
        config["config"]["Cmd"] = json.loads(args.cmd)
    if args.user:
        config["config"]["User"] = args.user
    if args.label:
        config["config"]["Labels"] = dict(kv.split("=", 1) for kv in args.label)
    if args.expose:
        config["config"]["ExposedPorts"] = {p: {} for p in args.expose}
    cfg_digest, cfg_size = blobs.add_bytes(json.dumps(config, sort_keys=True, separators=(",", ":")).encode())

    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": f"sha256:{cfg_digest}", "size": cfg_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": f"sha256:{d}", "size": s} for d, s, _ in layers],
    }
    man_digest, man_size = blobs.add_bytes(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())

    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": f"sha256:{man_digest}", "size": man_size,
            "platform": {"architecture": args.arch, "os": "linux"},
            "annotations": {"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": tag},
        }],
    }
    docker_manifest = [{
        "Config": f"blobs/sha256/{cfg_digest}",
        "RepoTags": [ref],
        "Layers": [f"blobs/sha256/{d}" for d, _, _ in layers],
    }]

    tmp = args.out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as out:
        def add_bytes(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = EPOCH
            out.addfile(ti, io.BytesIO(data))
        add_bytes("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        add_bytes("index.json", json.dumps(index, sort_keys=True).encode())
        add_bytes("manifest.json", json.dumps(docker_manifest).encode())
        for d in ("blobs", "blobs/sha256"):
            ti = tarfile.TarInfo(d)
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o755
            ti.mtime = EPOCH
            out.addfile(ti)
        for name in sorted(os.listdir(blobs.dir)):
            p = os.path.join(blobs.dir, name)
            ti = out.gettarinfo(p, f"blobs/sha256/{name}")
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = EPOCH, 0, 0, "", ""
            with open(p, "rb") as f:
                out.addfile(ti, f)
    os.replace(tmp, args.out)
    import shutil
    shutil.rmtree(work)
    print(f"sha256:{man_digest}")


if __name__ == "__main__":
    main()
