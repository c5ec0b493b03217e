"""§4.4 `proof.session_record`: the collection record (电子数据现场提取笔录) and its inventory
(固定清单) that a session summary may carry as `record`."""
from profile import filled, is_int


def confirmation(c, who):
    """The holder's or the witness's confirmation: a signature image with `refusal` null, or no
    image and a non-blank refusal. A blank refusal is no refusal, and beside an image it is not
    null: an image with a refusal of white space fails too. (problem or None)"""
    image, refusal = c["signature_image_sm3"], c["refusal"]
    if image is not None and refusal is None or image is None and filled(refusal):
        return None
    if image is not None:
        return f"the {who}'s confirmation has both a signature and a refusal"
    return f"the {who}'s confirmation has neither a signature nor a refusal with its reason"


def original(o):
    """The original medium: described; seized with a non-blank `kept_at` and `not_seized_reason`
    null, or not seized with a non-blank `not_seized_reason` and `kept_at` null. (problem or None)"""
    if not filled(o["description"]):
        return "the original medium is not described"
    seized, kept, reason = o["seized"], o["kept_at"], o["not_seized_reason"]
    if seized is True and filled(kept) and reason is None:
        return None
    if seized is False and filled(reason) and kept is None:
        return None
    if seized is True:
        return "a seized medium states where it is kept, and no reason for not seizing it"
    return "a medium not seized states why, and no place where it is kept"


def same(a, b):
    """The same JSON value (1 is not true)."""
    return a == b and type(a) is type(b)


def session_record(summary):
    """proof.session_record on a summary carrying `record`: (ok, detail), the first problem found."""
    rec = summary["record"]
    if not filled(rec["place"]) or not filled(rec["process"]):
        return False, "the record states no place or no process"
    for who in ("holder", "witness"):
        why = confirmation(rec[who], who)
        if why:
            return False, why
    manifests = summary["manifests"]
    # every file of every listed manifest, once for each time a manifest lists it
    listed = [(e["device_seq"], f) for e in manifests for f in e["files"]]
    for k, entry in enumerate(rec["inventory"]):
        seq, name = entry["device_seq"], entry["file_name"]
        at = f"inventory[{k}] ({name}, device_seq {seq})"
        if not is_int(seq):
            return False, f"{at}: device_seq is not an integer"
        manifest = next((e for e in manifests if same(e["device_seq"], seq)), None)
        if manifest is None:
            return False, f"{at}: the session lists no manifest of that device_seq"
        if not same(manifest["manifest_sm3"], entry["manifest_sm3"]):
            return False, f"{at}: manifest_sm3 is not the SM3 the session lists for that manifest"
        i = next((i for i, (q, f) in enumerate(listed) if same(q, seq) and same(f, name)), None)
        if i is None:
            return False, f"{at}: the session's manifests list no such file (or it is inventoried twice)"
        del listed[i]
        why = original(entry["original"])
        if why:
            return False, f"{at}: {why}"
    if listed:
        seq, f = listed[0]
        return False, f"the inventory leaves out {f} of device_seq {seq} ({len(listed)} file(s) in all)"
    if rec.get("process_recording") is not None and process_video(rec) is None:
        return False, "the whole-process recording is not a video of the inventory"
    return True, f"collection record at {rec['place']}: {len(rec['inventory'])} file(s) inventoried"


def process_video(rec):
    """The inventory entry `process_recording` names (same `device_seq` and `file_name`) if it is
    a video; None otherwise, or when the record names none."""
    p = rec.get("process_recording")
    if p is None:
        return None
    entry = next((e for e in rec["inventory"]
                  if same(e["device_seq"], p["device_seq"]) and same(e["file_name"], p["file_name"])), None)
    return entry if entry is not None and entry["kind"] == "video" else None
