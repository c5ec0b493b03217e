//! The verification report: every rule a verifier enforces (the catalogue that `VERIFYING.md`
//! documents, with stable identifiers), and the outcome of each check for one bundle.

use serde::Serialize;

/// One rule of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable identifier, `<layer>.<name>`, e.g. `receipt.device_seq`.
    pub id: &'static str,
    /// What the rule requires, in English.
    pub en: &'static str,
    /// What the rule requires, in Chinese.
    pub zh: &'static str,
}

impl Rule {
    /// The layer: the identifier up to its first dot.
    pub fn layer(&self) -> &'static str {
        layer_of(self.id)
    }
}

/// The layer of a rule identifier.
pub fn layer_of(id: &'static str) -> &'static str {
    id.split_once('.').map_or(id, |(l, _)| l)
}

/// The layers, in the order a report lists them.
pub const LAYERS: &[&str] = &[
    "certificate",
    "digest",
    "bundle",
    "policy",
    "governance",
    "proof",
    "profile",
    "officer",
    "media",
    "receipt",
    "leaf",
    "batch",
    "anchor",
    "checkpoint",
    "chain",
    "custody",
    "appraisal",
];

macro_rules! rules {
    ($($id:literal => $en:literal, $zh:literal;)*) => {
        /// Every rule, grouped by layer, in the order `VERIFYING.md` numbers them.
        pub const RULES: &[Rule] = &[$(Rule { id: $id, en: $en, zh: $zh }),*];
    };
}

rules! {
    "certificate.pdf.attachment" => "(PDF input) the PDF has exactly one attached file that is a certificate, unfiltered or FlateDecode; nothing else about the PDF is trusted", "（PDF输入）PDF恰好附有一个证书文件，未压缩或FlateDecode压缩；PDF的其他内容均不被信任";
    "certificate.format" => "the certificate is strict JSON with exactly the members of schemas/certificate.schema.json and `type` \"tiezheng.certificate.v1\"", "证书为严格JSON，成员与schemas/certificate.schema.json完全一致，`type`为\"tiezheng.certificate.v1\"";
    "certificate.signature" => "the notary's SM2 signature over the RFC 8785 bytes of `certificate` verifies", "公证机构对`certificate`RFC 8785字节的SM2签名有效";
    "certificate.issuer" => "the issuer's key is the signing key and the notary that receipted the proof", "出证方公钥即签名公钥，且为出具回执的公证机构";
    "certificate.issuer_standing" => "the issuer states its standing: operator type (evidence_platform or notary_office), name and legal name, a unified social credit code of 18 characters whose GB 32100-2015 check character is right, a filing number or null, and a contact (texts 1–200 characters, not blank; the filing number 1–100)", "出证方载明其资质：运营者类型（evidence_platform存证平台或notary_office公证机构）、名称与法定名称、18位且校验码符合GB 32100-2015的统一社会信用代码、备案编号或null、联系方式（文字1–200字符且非空白；备案编号1–100字符）";
    "certificate.number" => "the certificate number is derived from the chain, the proof and the anchor record", "证书编号由链、证明与锚定记录推导得出";
    "certificate.facts.evidence" => "the evidence items stated are the manifest's", "所载证据项与清单一致";
    "certificate.facts.capture_time" => "the capture times and delays stated are the manifest's, the receipt's and the anchor's", "所载采集时间与延迟与清单、回执、锚定记录一致";
    "certificate.facts.location" => "the locations stated are the manifest's", "所载位置与清单一致";
    "certificate.facts.findings" => "the findings stated are the manifest's, with their fixed explanations", "所载发现项与清单一致并附固定解释";
    "certificate.facts.device" => "the device stated is the manifest's", "所载设备与清单一致";
    "certificate.facts.case" => "the case record stated is the manifest's", "所载案件记录与清单一致";
    "certificate.facts.procedure" => "the forensic procedure stated (取证依据) is the profile the manifest names, with that shipped profile's titles, legal basis and requirements in order, each capture-time requirement's outcome and reason as the manifest records it, and profile.receipt_delay met exactly when the receipt came within its delay; absent exactly when the manifest names no profile", "所载取证依据为清单所指的取证规范，其标题、法律依据与各项要求（按序）取自内置规范，各采集时要求的结果与理由与清单记录一致，profile.receipt_delay当且仅当回执在其时限内时记为满足；清单未指明规范时不载";
    "certificate.facts.receipt" => "the receipt facts stated are the signed receipt's", "所载回执信息与签名回执一致";
    "certificate.facts.anchor" => "the anchor facts stated are the bundle's batch, anchor record, checkpoint and CometBFT header", "所载锚定信息与证据包的批次、锚定记录、检查点及CometBFT区块头一致";
    "certificate.facts.consortium" => "the members and cosigners stated are the bundle's", "所载成员与联署者与证据包一致";
    "certificate.statement" => "the statement of what the certificate proves and does not prove is the fixed text", "关于证书证明与不证明内容的声明为固定文本";
    "certificate.issued_at" => "the certificate is not dated before the receipt or the checkpoint", "证书日期不早于回执与检查点";
    "certificate.custody" => "the custody summary counts at least the receipt event, and at least the embedded bundle's custody events, the last of which it names when it counts no more", "保管摘要至少记录回执事件，且不少于所附证据包中的保管事件；数目相同时其末事件哈希即为所附末事件的哈希";
    "digest.format" => "(public digest) the digest is strict JSON with exactly the members of schemas/public-digest.schema.json and `digest.type` \"tiezheng.public-digest.v1\"", "（公开摘要）摘要为严格JSON，成员与schemas/public-digest.schema.json完全一致，`digest.type`为\"tiezheng.public-digest.v1\"";
    "digest.signature" => "(public digest) the SM2 signature over the RFC 8785 bytes of `digest` verifies with the key of the notary that receipted the proof, a notary of the registry at the checkpoint", "（公开摘要）对`digest`RFC 8785字节的SM2签名可用出具回执的公证机构公钥验证，且该机构属于检查点时的登记册";
    "digest.issuer" => "(public digest) the issuer's key is that notary's key, and its standing is well formed as rule certificate.issuer_standing requires", "（公开摘要）出证方公钥即该公证机构公钥，且其资质按certificate.issuer_standing规则格式正确";
    "digest.number" => "(public digest) the certificate number is the one derived from the chain, the digest's proof_sm3 and the anchor record", "（公开摘要）证书编号由链、摘要的proof_sm3与锚定记录推导得出";
    "bundle.json" => "the bundle is strict JSON: UTF-8, no duplicate member names, no fractions or exponents, integers within ±(2^53−1)", "证据包是严格的JSON：UTF-8、无重复成员名、无小数与指数、整数不超过±(2^53−1)";
    "bundle.schema" => "the bundle has exactly the members schemas/bundle.schema.json defines, with the types and encodings it states (lowercase hex of exact length, RFC 3339 times with milliseconds); no unknown members anywhere", "证据包的成员、类型与编码与schemas/bundle.schema.json完全一致（定长小写十六进制、带毫秒的RFC 3339时间），任何位置都不得有未知成员";
    "bundle.type" => "`type` is \"tiezheng.bundle.v1\"", "`type`为\"tiezheng.bundle.v1\"";
    "bundle.mode" => "`mode` is \"embedded\" without a `cometbft` layer, or \"consortium\" with one", "`mode`为\"embedded\"时无`cometbft`层，为\"consortium\"时必须有";
    "policy.copy" => "the bundle's copy of the policy is exactly the registry at the checkpoint (the pinned policy after the bundle's registry changes): chain ID, members with keys and power in registry order, the notary keys that may anchor, and the validators", "证据包内的策略副本与检查点时的登记册完全一致（固定策略加上证据包携带的登记变更）：链ID、成员及其公钥与权重（按登记顺序）、可锚定的公证机构公钥、验证者集合";
    "governance.type" => "every registry change has `proposal.type` \"tiezheng.governance.v1\"", "每项登记变更的`proposal.type`为\"tiezheng.governance.v1\"";
    "governance.chain_id" => "every registry change names the pinned policy's chain", "每项登记变更所指的链为固定策略中的链";
    "governance.sequence" => "the changes are numbered 1, 2, 3, … without gaps, in order", "登记变更按1、2、3……连续编号且按序排列";
    "governance.approvers" => "every approval is by a member of the registry as it stood before the change, and no member approves twice", "每个批准签名者都是变更前登记册中的成员，且同一成员不得重复批准";
    "governance.approvals" => "every approval is a valid SM2 signature of its member over the RFC 8785 bytes of the proposal", "每个批准都是该成员对提案RFC 8785字节的有效SM2签名";
    "governance.quorum" => "the approving members hold more than two thirds of the voting power before the change", "批准成员的投票权重超过变更前总权重的三分之二";
    "governance.change" => "the change is valid against the registry before it (member identifiers, power 1–1000000, distinct keys, not removing the last member, notaries added once and removed only when present; a validator is a base64 ed25519 key for an existing member, not another member's, set once, removed only when present, and never the last one removed)", "变更相对于变更前的登记册有效（成员标识、权重1–1000000、公钥互不相同、不删除最后一个成员、公证机构不重复添加且只删除已登记者；验证者为现有成员的base64 ed25519公钥，不属于其他成员，不重复设置，只删除已有者，且不删除最后一个验证者）";
    "proof.type" => "`manifest.type` is \"tiezheng.manifest.v1\"", "`manifest.type`为\"tiezheng.manifest.v1\"";
    "proof.schema" => "the manifest's values are within the limits schemas/manifest.schema.json states (identifier formats, lengths, ranges, WGS-84, at least one collector)", "清单中的值符合schemas/manifest.schema.json规定的限制（标识格式、长度、范围、WGS-84坐标系、至少一名采集人）";
    "proof.signature" => "the signature block is SM2-with-SM3 (OID 1.2.156.10197.1.501, ID 1234567812345678) and its signature over the RFC 8785 bytes of the manifest verifies with the block's public key", "签名块为SM2-with-SM3（OID 1.2.156.10197.1.501，ID 1234567812345678），并且对清单RFC 8785字节的签名可用签名块中的公钥验证";
    "proof.key_id" => "`manifest.device.key_id` is the SM3 of the signing public key", "`manifest.device.key_id`为签名公钥的SM3";
    "proof.chain_link" => "`previous_manifest_sm3` is null exactly when `device_seq` is 1", "当且仅当`device_seq`为1时`previous_manifest_sm3`为null";
    "proof.content" => "a capture manifest has items and no session summary; a session-summary manifest has a summary and no items", "采集清单有证据项而无会话摘要；会话摘要清单有摘要而无证据项";
    "proof.item_hashes" => "every item carries exactly one SM3 and one SHA-256 digest, each with its algorithm's OID", "每个证据项恰好带有一个SM3和一个SHA-256摘要，且各自的OID与算法一致";
    "proof.recording_segments" => "a recording's segments are numbered 0, 1, 2, …, each non-empty, contiguous from offset 0, and together exactly cover the item's bytes", "录制的分段编号为0、1、2……，每段非空，自偏移0起首尾相接，合起来恰好覆盖证据项的全部字节";
    "proof.recording_chain" => "every segment's `chain` is SM3(previous chain ‖ be64(index) ‖ be64(offset) ‖ be64(bytes) ‖ sm3), from 32 zero bytes", "每段的`chain`等于SM3(前一链值 ‖ be64(序号) ‖ be64(偏移) ‖ be64(长度) ‖ sm3)，初始链值为32个零字节";
    "proof.recording_flags" => "a truncated recording is also interrupted, a recording belongs to a video or audio item, and the findings state the interruption (`recording_truncated` or `recording_interrupted`) exactly when the flags do", "被截断的录制必为中断的录制，录制仅属于视频或音频证据项，且当且仅当标志所示时发现项中记载中断（`recording_truncated`或`recording_interrupted`）";
    "proof.session_summary" => "a session summary opens no later than it closes and lists manifests in strictly increasing `device_seq`, all before its own", "会话摘要的开始时间不晚于结束时间，所列清单的`device_seq`严格递增且都小于摘要本身的";
    "proof.session_record" => "(when a session summary carries `record`, the 笔录 and 固定清单) `place` and `process` are not blank; the holder's and the witness's confirmation each has either a `signature_image_sm3` and a null `refusal`, or a null `signature_image_sm3` and a `refusal` that is not blank; every file of every manifest the summary lists is inventoried exactly once and nothing else, each entry naming that manifest's `device_seq` and `manifest_sm3`; each original medium is described (not blank) and, when `seized`, has a `kept_at` that is not blank and a null `not_seized_reason`, otherwise a `not_seized_reason` that is not blank and a null `kept_at`; a `process_recording`, when present and not null, names an inventory entry (same `device_seq` and `file_name`) whose `kind` is \"video\"", "（会话摘要带`record`即笔录与固定清单时）`place`与`process`非空白；持有人与见证人的确认或有`signature_image_sm3`且`refusal`为null，或`signature_image_sm3`为null且`refusal`非空白；摘要所列各清单的每个文件在清单中恰好列出一次且别无他项，每项注明该清单的`device_seq`与`manifest_sm3`；每项原始存储介质均有非空白描述；已扣押（`seized`）的`kept_at`非空白且`not_seized_reason`为null，未扣押的`not_seized_reason`非空白且`kept_at`为null；`process_recording`存在且非null时，指向清单中`device_seq`与`file_name`均相同且`kind`为\"video\"的一项";
    "profile.named" => "the manifest's `procedure.profile` names a forensic profile this verifier ships (`id` and `version`), and `sm3` is the SM3 of that profile's RFC 8785 bytes; skipped when the manifest names none", "清单`procedure.profile`所指取证规范为本验证器内置的规范（`id`与`version`），且`sm3`为该规范RFC 8785字节的SM3；清单未指明规范时跳过";
    "profile.outcomes" => "`procedure.outcomes` lists each of the profile's capture-time requirements (all but profile.receipt_delay) once, in the profile's order; a `must` is recorded as met; a `should` not met carries a reason of 1 to 500 characters, not blank and without white space at either end; a met requirement carries none", "`procedure.outcomes`按规范顺序逐一列出规范的全部采集时要求（profile.receipt_delay除外）；`must`必须记为已满足；未满足的`should`附1至500字符、非空白且首尾无空白的理由；已满足的要求不附理由";
    "profile.collectors" => "(when the profile requires it and records it as met) the case names at least `min_collectors` distinct collectors", "（规范要求且记为已满足时）案件记录载明不少于`min_collectors`名不同的采集人";
    "profile.signatures" => "(when the profile requires it and records it as met) every collector named in `case.collectors` (trimmed, blank ones aside) is the `officer_id` of an entry of the proof's `officer_signatures` (whether each verifies is rule officer.signature's)", "（规范要求且记为已满足时）`case.collectors`所列每名采集人（去除首尾空白，空白项除外）均为证明`officer_signatures`中某一项的`officer_id`（各签名是否有效由officer.signature规则判定）";
    "profile.holder" => "(when required and recorded as met) the holder is named, or the holder's note records why they did not sign", "（规范要求且记为已满足时）载明持有人姓名，或在持有人备注中记录其未签名的原因";
    "profile.witness" => "(when required and recorded as met) the witness is named, or the witness's note records why there is none; on a collection record, the witness signed it or it names the video of the whole collection", "（规范要求且记为已满足时）载明见证人姓名，或在见证人备注中记录无见证人的原因；有提取笔录时，见证人已在笔录上签名，或笔录指明全程录像的视频";
    "profile.fields" => "(when required and recorded as met) each case field the requirement lists (`cause`, `object`, `description`) is filled in, not blank", "（规范要求且记为已满足时）要求所列的案件字段（`cause`、`object`、`description`）均已填写且非空白";
    "profile.location" => "(when required and recorded as met) every item has an OS fix, not from a mock provider, stating a horizontal accuracy of at most `max_accuracy_m` metres", "（规范要求且记为已满足时）每个证据项均有非模拟来源的系统定位，且水平精度不超过`max_accuracy_m`米";
    "profile.clock" => "(when required and recorded as met) for every item, the last time sync's offset, or the difference between device time and GNSS time, is at most `max_skew_s` seconds", "（规范要求且记为已满足时）每个证据项的最近一次授时偏差，或设备时间与卫星时间之差，不超过`max_skew_s`秒";
    "profile.origin" => "(when required and recorded as met) every item is `captured`, none `imported`", "（规范要求且记为已满足时）每个证据项均为`captured`（现场采集），无`imported`（导入）";
    "profile.receipt_delay" => "(when the profile has it) the receipt's `received_at` is at most `max_delay_s` seconds after the manifest's `created_at`; a `should` not met is reported, not refused", "（规范含此要求时）回执`received_at`不晚于清单`created_at`之后`max_delay_s`秒；未满足的`should`仅予载明，不予拒绝";
    "officer.signature" => "(when officers signed) every entry of the proof's `officer_signatures` is SM2-with-SM3 (OID 1.2.156.10197.1.501, ID 1234567812345678) by the key in its block over the RFC 8785 bytes of the manifest and verifies; its `officer_id` is one of `case.collectors`; no officer and no key signs twice, and no officer signs with the device's key; skipped when no officer signed and the bundle carries no credential", "（有执法人员签名时）证明`officer_signatures`中每一项均为其签名块公钥所作、对清单RFC 8785字节的SM2-with-SM3签名（OID 1.2.156.10197.1.501，ID 1234567812345678）且验证通过；其`officer_id`属于`case.collectors`；同一人员与同一密钥均不得签两次，人员不得使用设备密钥签名；无人员签名且证据包不带凭证时跳过";
    "officer.credential" => "the bundle's `officers` holds exactly one credential (`tiezheng.officer-certificate.v1`) per officer signature that meets every condition of officer.signature (officers and keys compared with the entries accepted before it), matched by the SM3 of the signing key: its `public_key` is that key and `key_id` its SM3, its `officer.officer_id` the signature's, its `notary_key_id` the receipt's, its `issued_at` no later than the receipt's `received_at`, and the receipting notary's signature over it verifies; the bundle carries no credential of a key that no entry of `officer_signatures` carries", "证据包`officers`中对每个满足officer.signature全部条件的人员签名（人员与密钥仅与此前已接受的签名项比较）恰有一份凭证（`tiezheng.officer-certificate.v1`），按签名公钥的SM3匹配：其`public_key`即该公钥且`key_id`为其SM3，`officer.officer_id`与签名一致，`notary_key_id`与回执一致，`issued_at`不晚于回执`received_at`，且出具回执的公证机构对其签名验证通过；证据包不带任何未出现在`officer_signatures`中的密钥的凭证";
    "media.item" => "the file's SM3 is the SM3 digest of an item of the manifest (the file is matched to the item by SM3)", "文件的SM3等于清单中某一证据项的SM3摘要（按SM3匹配证据项）";
    "media.sha256" => "the file's SHA-256 is that item's SHA-256 digest", "文件的SHA-256等于该证据项的SHA-256摘要";
    "media.bytes" => "the file's size is that item's `bytes`", "文件大小等于该证据项的`bytes`";
    "media.segments" => "for a recording, the SM3 of the file's bytes of every segment is that segment's `sm3`", "对录制文件，每一分段所对应文件字节的SM3等于该分段的`sm3`";
    "receipt.type" => "`receipt.type` is \"tiezheng.receipt.v1\"", "`receipt.type`为\"tiezheng.receipt.v1\"";
    "receipt.notary" => "`receipt.notary_key_id` names a notary of the registry that may anchor", "`receipt.notary_key_id`指向登记册中可锚定的公证机构";
    "receipt.signature" => "the receipt's SM2 signature over the RFC 8785 bytes of `receipt` verifies with that notary's key, and the block carries that key", "回执对`receipt`的RFC 8785字节的SM2签名可用该公证机构公钥验证，且签名块中的公钥即为该公钥";
    "receipt.proof_sm3" => "`receipt.proof_sm3` is the SM3 of the proof's RFC 8785 bytes", "`receipt.proof_sm3`等于证明RFC 8785字节的SM3";
    "receipt.manifest_sm3" => "`receipt.manifest_sm3` is the SM3 of the manifest's RFC 8785 bytes", "`receipt.manifest_sm3`等于清单RFC 8785字节的SM3";
    "receipt.device_key_id" => "`receipt.device_key_id` is the SM3 of the device key that signed the proof", "`receipt.device_key_id`等于签署证明的设备公钥的SM3";
    "receipt.device_seq" => "`receipt.device_seq` is the manifest's `device_seq`", "`receipt.device_seq`等于清单的`device_seq`";
    "receipt.chain_gap" => "a receipt for `device_seq` 1 reports no chain gap", "`device_seq`为1的回执不得报告链缺口";
    "receipt.time" => "the receipt time lies within the batch window (`window_start` ≤ `received_at` ≤ `window_end`, the notary's clock); not applicable when the window itself is malformed", "回执时间位于批次时间窗口内（`window_start` ≤ `received_at` ≤ `window_end`，均为公证机构时钟）";
    "leaf.salt" => "`leaf.salt` is 32 lowercase hex digits", "`leaf.salt`为32位小写十六进制";
    "leaf.proof_sm3" => "`leaf.proof_sm3` is the SM3 of the proof", "`leaf.proof_sm3`等于证明的SM3";
    "leaf.inclusion" => "the leaf's inclusion proof is SM3, for a tree of the batch's `leaf_count`, and leads from SM3(0x00 ‖ RFC 8785 bytes of the leaf) to the batch root", "叶子的包含证明使用SM3，树大小等于批次的`leaf_count`，且从SM3(0x00 ‖ 叶子RFC 8785字节)推导到批次根";
    "batch.type" => "`header.type` is \"tiezheng.batch-header.v1\"", "`header.type`为\"tiezheng.batch-header.v1\"";
    "batch.notary" => "`header.notary_key_id` names a notary of the registry that may anchor, the same notary that signed the receipt", "`header.notary_key_id`指向登记册中可锚定的公证机构，且与签署回执的为同一机构";
    "batch.signature" => "the header's SM2 signature over the RFC 8785 bytes of the unsigned `header` verifies with that notary's key, and the block carries that key", "批次头对未签名`header`的RFC 8785字节的SM2签名可用该公证机构公钥验证，且签名块中的公钥即为该公钥";
    "batch.sequence" => "`previous_header_sm3` is null exactly when `batch_seq` is 1", "当且仅当`batch_seq`为1时`previous_header_sm3`为null";
    "batch.window" => "the batch window is well formed: `window_start` ≤ `window_end`", "批次时间窗口格式正确：`window_start` ≤ `window_end`";
    "anchor.batch_header_sm3" => "`record.batch_header_sm3` is the SM3 of the RFC 8785 bytes of the unsigned batch header", "`record.batch_header_sm3`等于未签名批次头RFC 8785字节的SM3";
    "anchor.notary_key_id" => "`record.notary_key_id` is the batch header's", "`record.notary_key_id`与批次头一致";
    "anchor.batch_seq" => "`record.batch_seq` is the batch header's", "`record.batch_seq`与批次头一致";
    "anchor.root" => "`record.root` is the batch header's root", "`record.root`与批次头的根一致";
    "anchor.leaf_count" => "`record.leaf_count` is the batch header's", "`record.leaf_count`与批次头一致";
    "anchor.inclusion" => "the record's inclusion proof is SM3, for a log of the checkpoint's `anchor_log_size`, and leads from SM3(0x00 ‖ RFC 8785 bytes of the record) to the checkpoint's `anchor_log_root`", "锚定记录的包含证明使用SM3，日志大小等于检查点的`anchor_log_size`，且从SM3(0x00 ‖ 记录RFC 8785字节)推导到检查点的`anchor_log_root`";
    "anchor.height" => "the record's height is at most the checkpoint's height", "锚定记录的高度不超过检查点高度";
    "anchor.time" => "the batch closed before it was anchored (`window_end` ≤ record time + 60 s clock tolerance) and the record is no later than the checkpoint (record time ≤ checkpoint time)", "批次先关闭后锚定（`window_end` ≤ 记录时间 + 60秒时钟容差），且记录时间不晚于检查点时间";
    "checkpoint.type" => "`checkpoint.type` is \"tiezheng.checkpoint.v1\"", "`checkpoint.type`为\"tiezheng.checkpoint.v1\"";
    "checkpoint.chain_id" => "the checkpoint's chain is the pinned policy's", "检查点所属链为固定策略中的链";
    "checkpoint.registry_root" => "`registry_root` is the root of the registry at the checkpoint (the pinned policy after the bundle's registry changes)", "`registry_root`等于检查点时登记册的根（固定策略加上证据包携带的登记变更）";
    "checkpoint.cosigners" => "every cosignature is by a member of that registry, and no member cosigns twice", "每个联署签名者都是该登记册的成员，且同一成员不得重复联署";
    "checkpoint.cosignatures" => "every cosignature is a valid SM2 signature of its member over the RFC 8785 bytes of the checkpoint", "每个联署都是该成员对检查点RFC 8785字节的有效SM2签名";
    "checkpoint.quorum" => "the cosigning members hold more than two thirds of the registry's voting power", "联署成员的投票权重超过登记册总权重的三分之二";
    "chain.header" => "`cometbft.signed_header` is a CometBFT signed header written exactly as CometBFT's JSON writes it: exactly `header` and `commit`; the header with exactly its 14 fields; the commit exactly {height (decimal string), round (integer), block_id, signatures}, each entry exactly {block_id_flag (integer), validator_address (\"\" or 40 upper-case hex digits), timestamp (a CometBFT time), signature (canonical base64 or null)}; no unknown, missing or re-spelt members", "`cometbft.signed_header`是CometBFT签名区块头，写法与CometBFT的JSON输出完全一致：恰为`header`与`commit`；区块头恰有14个字段；提交恰为{height（十进制字符串）, round（整数）, block_id, signatures}，每项恰为{block_id_flag（整数）, validator_address（\"\"或40位大写十六进制）, timestamp（CometBFT时间）, signature（规范base64或null）}；无未知、缺失或改写的成员";
    "chain.chain_id" => "the header's chain ID is the checkpoint's", "区块头的链ID与检查点一致";
    "chain.height" => "the header's height is the checkpoint's height + 1", "区块头高度等于检查点高度加1";
    "chain.app_hash" => "the header's `app_hash` is SM3(\"TIEZHENG-APPHASH-V1\" ‖ be64(anchor_log_size) ‖ anchor_log_root ‖ registry_root) of the checkpoint", "区块头的`app_hash`等于检查点的SM3(\"TIEZHENG-APPHASH-V1\" ‖ be64(anchor_log_size) ‖ anchor_log_root ‖ registry_root)";
    "chain.time" => "the header's time is later than the checkpoint's time, at nanosecond precision (the same instant is not later)", "区块头时间晚于检查点时间，按纳秒精度比较（同一时刻不算晚于）";
    "chain.validators" => "`cometbft.validators` lists exactly one of the validator sets the registry went through (the pinned policy's, then the set after each registry change the bundle carries that alters it), each entry as {address, pub_key {type, value}, voting_power}, addresses derived from the keys, in CometBFT's order (power descending, then address ascending)", "`cometbft.validators`恰好列出登记册经历过的某一验证者集合（固定策略中的集合，或证据包携带的每项改变验证者的登记变更之后的集合），每项为{address, pub_key {type, value}, voting_power}，地址由公钥导出，按CometBFT顺序排列（权重降序，再按地址升序）";
    "chain.validators_hash" => "the header's `validators_hash` is the hash of that validator set", "区块头的`validators_hash`等于该验证者集合的哈希";
    "chain.next_validators" => "the header's `next_validators_hash` is the hash of the registry's validators at the checkpoint (validator updates of block H take effect at H+2, so header H+1 names them as its next validators)", "区块头的`next_validators_hash`等于检查点时登记册中验证者集合的哈希（区块H的验证者变更自H+2起生效，故H+1的区块头将其列为下一验证者集合）";
    "chain.commit" => "the commit is for this header (its height is the header's, its `block_id.hash` the header's hash) and the validators of the set whose votes for the block verify, each counted once wherever its entry stands, hold more than two thirds of the total power (power × 3 > total × 2)", "提交对应本区块头（高度与区块头相同，`block_id.hash`等于区块头哈希），且对该区块投票并验证通过的验证者（每人只计一次，不论其条目位置）权重超过总权重的三分之二（权重×3 > 总权重×2）";
    "chain.signatures" => "the commit has exactly one entry per validator, in set order (entry i is validator i's); an entry is absent (flag 1: address \"\", the zero time, signature null), a vote for the block (2) or for nil (3), no other; every vote names its validator and its ed25519 signature over CometBFT's canonical vote bytes verifies with that validator's key", "提交按集合顺序每个验证者恰好一项（第i项属于第i个验证者）；每项为缺席（标志1：地址\"\"、零时间、签名null）、对区块投票（2）或对nil投票（3），别无其他；每一投票注明其验证者，且其对CometBFT规范投票字节的ed25519签名可用该验证者公钥验证";
    "custody.events" => "`events` is not empty; every event's `hash` is the SM3 of its RFC 8785 bytes without `hash`, its `proof_sm3` is the bundle's proof, its `event` one of received, media_stored, anchored, certified, viewed, exported, appraisal_step; the first is `received`", "`events`非空；每个事件的`hash`等于去掉`hash`后RFC 8785字节的SM3，`proof_sm3`为本证据包的证明，`event`为received、media_stored、anchored、certified、viewed、exported、appraisal_step之一；第一个事件为`received`";
    "custody.chain" => "every event has `item_prev`; the first's is 64 zeros, each other's is the `hash` of the event before it in `events`; `seq` strictly increases", "每个事件均有`item_prev`；第一个为64个0，其余等于`events`中前一事件的`hash`；`seq`严格递增";
    "custody.inclusion" => "one inclusion proof per event; each is SM3, has `leaf_index` = `seq` − 1 and `tree_size` = the commitment's `size`, and leads from SM3(0x00 ‖ the event's hash bytes) to the commitment's `root`", "每个事件一个包含证明；使用SM3，`leaf_index` = `seq` − 1，`tree_size`等于承诺的`size`，且从SM3(0x00 ‖ 事件哈希字节)推导到承诺的`root`";
    "custody.anchor" => "`anchor.header` has type \"tiezheng.batch-header.v1\" and a `custody` commitment, is by the notary that signed the receipt (a notary of the registry at the checkpoint, not removed) and its SM2 signature verifies with that key; `anchor.record` is its record (`batch_header_sm3` the SM3 of the unsigned header's RFC 8785 bytes; `notary_key_id`, `batch_seq`, `root`, `leaf_count` the header's); the record's inclusion proof is SM3, for a log of the checkpoint's `anchor_log_size`, and leads from SM3(0x00 ‖ RFC 8785 bytes of the record) to `anchor_log_root`; the record's height is at most the checkpoint's (skipped when the receipt's notary is not trusted: `receipt.notary` says so)", "`anchor.header`类型为\"tiezheng.batch-header.v1\"且含`custody`承诺，由签署回执的公证机构出具（检查点时登记册中的未被移除的公证机构），其SM2签名可用该公钥验证；`anchor.record`为其锚定记录（`batch_header_sm3`为未签名批次头RFC 8785字节的SM3，`notary_key_id`、`batch_seq`、`root`、`leaf_count`与批次头一致）；记录的包含证明使用SM3，日志大小等于检查点的`anchor_log_size`，且从SM3(0x00 ‖ 记录RFC 8785字节)推导到`anchor_log_root`；记录高度不超过检查点高度（回执的公证机构不受信任时不检查：由`receipt.notary`指出）";
    "appraisal.schema" => "(an opinion package) strict JSON with exactly the members of schemas/appraisal-opinion.schema.json, `type` \"tiezheng.appraisal-opinion.v1\", every step's `type` \"tiezheng.appraisal-step.v1\", and a commission first", "（鉴定意见包）严格JSON，成员与schemas/appraisal-opinion.schema.json完全一致，`type`为\"tiezheng.appraisal-opinion.v1\"，每一步骤`type`为\"tiezheng.appraisal-step.v1\"，首步为委托";
    "appraisal.signatures" => "every step carries at least one signature, and every signature of every step, credential and revocation is SM2-with-SM3 by the key in its block over the RFC 8785 bytes of the signed document and verifies", "每一步骤至少有一个签名；每一步骤、凭证与撤销的每个签名均为其签名块公钥对所签文件RFC 8785字节的SM2-with-SM3签名且验证通过";
    "appraisal.chain" => "step i has `seq` i; the commission has null `commission` and `prev`; every later step names the SM3 of the signed commission and of the signed step before it (RFC 8785 bytes of `{step, signatures}`); no second commission", "第i步`seq`为i；委托的`commission`与`prev`为null；其后每步注明已签名委托及前一已签名步骤（`{step, signatures}`的RFC 8785字节）的SM3；不得有第二次委托";
    "appraisal.court" => "the commission is made in the role `court` by a party of the pinned policy (`parties`) with role `court`, and carries exactly one signature, by that party's key; the delivery names that court", "委托以`court`身份由固定策略`parties`中角色为`court`的当事方作出，且恰有一个签名，为该当事方密钥所作；送达对象为该法院";
    "appraisal.institution" => "the commissioned institution is a party of the pinned policy (`parties`) with role `appraisal_institution`; every step in the role `institution` is by it and signed with its key", "受托机构为固定策略`parties`中角色为`appraisal_institution`的当事方；以`institution`身份作出的每一步骤均由其作出并以其密钥签名";
    "appraisal.credential" => "every assigned appraiser and the reviewer has exactly one credential; every credential names the commissioned institution, its `key_id` is the SM3 of its `public_key`, it is signed with the institution's key, and it is issued no later than the first step its key signs", "每名受指派鉴定人与复核人恰有一份凭证；每份凭证注明受托机构，其`key_id`为`public_key`的SM3，以机构密钥签名，签发时间不晚于该密钥所签的第一个步骤";
    "appraisal.revocation" => "every revocation names the commissioned institution and is signed with its key; no step is signed with a revoked key at or after its `revoked_at`", "每份撤销注明受托机构并以其密钥签名；任何步骤不得由已撤销密钥在`revoked_at`当时或之后签名";
    "appraisal.appraiser" => "every step in the role `appraiser` is by an assigned appraiser (declaration, material receipt, record entry) or by the reviewer (declaration, review), and carries exactly one signature, by the key of that person's credential", "以`appraiser`身份作出的每一步骤均由受指派鉴定人（回避声明、检材接收、过程记录）或复核人（回避声明、复核）作出，且恰有一个签名，为其凭证密钥所作";
    "appraisal.order" => "the acceptance (accepted) follows the commission and the assignment follows it; no second acceptance or assignment; acts are made in their role; each assigned person declares no conflict once, before anything else they do; each appraiser receives the material once, before the first opinion, and records only after receiving it; a record entry precedes the first opinion; every review follows an opinion made since the previous review; the last opinion is reviewed; the delivery is the last step", "受理（同意）紧随委托，指派紧随受理；不得有第二次受理或指派；各行为以其身份作出；每名受指派人员在其他行为之前恰作一次回避声明；每名鉴定人在首份意见前接收检材一次，接收后方可记录；首份意见前至少有一条过程记录；每次复核之前须有自上次复核以来的意见；最后一份意见须经复核；送达为最后一步";
    "appraisal.time" => "every step is later than the step before it; the acceptance and every opinion are no later than the commission's `deadline`", "每一步骤晚于前一步骤；受理与每份意见不晚于委托的`deadline`";
    "appraisal.assignment" => "at least two distinct appraisers, none blank, and a reviewer who is not blank and not one of them", "至少两名不同且非空白的鉴定人，复核人非空白且不是其中之一";
    "appraisal.material" => "every material receipt lists exactly the commission's items, in order, with the same `proof_sm3`, `file_name` and `sm3`", "每份检材接收清单与委托所列项目完全一致、顺序相同，`proof_sm3`、`file_name`与`sm3`均相同";
    "appraisal.opinion" => "the last opinion has one finding per question, none blank, and is signed once by the institution and once by every assigned appraiser (with their credential's key), by no one else", "最后一份意见对每个问题各有一项非空白结论，由机构及每名受指派鉴定人（以其凭证密钥）各签名一次，无他人签名";
    "appraisal.review" => "the last review follows the last opinion and approves it", "最后一次复核在最后一份意见之后且予以批准";
    "appraisal.anchor" => "in the custody log of every bundle, the `appraisal_step` events whose `detail` starts with the SM3 of the signed commission followed by a space are exactly one per step of the package, in step order, each `\"<commission SM3> <seq> <act> <step SM3>\"` with that step's `seq`, `act` kind and SM3 (RFC 8785 bytes of `{step, signatures}`): every step was filed with the notary and anchored with the custody log, and none is missing from the package", "每个证据包的保管记录中，`detail`以已签名委托SM3加一个空格开头的`appraisal_step`事件与包内步骤一一对应、顺序相同，各为`\"<委托SM3> <seq> <act> <步骤SM3>\"`，其`seq`、`act`类型与SM3（`{step, signatures}`的RFC 8785字节）与该步骤一致：每一步骤均已向存证平台提交并随保管记录上链，且包内无遗漏";
    "appraisal.evidence" => "the package holds exactly one bundle per distinct `proof_sm3` of the commission, each valid under the pinned policy by every rule of §4, and each commissioned file is an item of that proof with that `file_name` and SM3", "包内对委托中每个不同的`proof_sm3`恰有一个证据包，各自在固定策略下满足§4全部规则，且委托的每个文件均为该证明中`file_name`与SM3相同的项目";
}

/// The rule with identifier `id`.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The rule holds.
    Pass,
    /// The rule does not hold: the bundle is invalid.
    Fail,
    /// The rule does not apply (no media file given, an embedded bundle has no chain layer,
    /// or what it checks could not be read).
    Skip,
}

/// One check of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The layer (`receipt`, ...).
    pub layer: &'static str,
    /// The rule identifier (`receipt.device_seq`, ...).
    pub rule: &'static str,
    /// Pass, fail or skip.
    pub status: Status,
    /// What was compared, or in plain words what disagrees with what.
    pub detail: String,
}

/// The first failed check of `checks`, in layer order.
pub fn first_failure(checks: &[Check]) -> Option<&Check> {
    LAYERS.iter().find_map(|l| {
        checks
            .iter()
            .find(|c| c.status == Status::Fail && c.layer == *l)
    })
}

/// The outcome of `rule` in `checks`, if checked.
pub fn status(checks: &[Check], rule: &str) -> Option<Status> {
    checks.iter().find(|c| c.rule == rule).map(|c| c.status)
}

/// Every check made on one bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The checks, in catalogue order of their first occurrence.
    pub checks: Vec<Check>,
}

impl Report {
    /// Records the outcome of `rule`. Repeated outcomes of one rule (one per cosignature, say)
    /// are merged: the first failure wins.
    pub fn record(&mut self, rule: &'static str, outcome: Result<String, String>) {
        let (status, detail) = match outcome {
            Ok(d) => (Status::Pass, d),
            Err(d) => (Status::Fail, d),
        };
        self.push(rule, status, detail);
    }

    /// Records that `rule` does not apply, and why.
    pub fn skip(&mut self, rule: &'static str, why: impl Into<String>) {
        self.push(rule, Status::Skip, why.into());
    }

    fn push(&mut self, rule: &'static str, status: Status, detail: String) {
        if let Some(c) = self.checks.iter_mut().find(|c| c.rule == rule) {
            let replace = match (c.status, status) {
                (Status::Fail, _) => false,
                (_, Status::Fail) => true,
                (Status::Skip, Status::Pass) => true,
                _ => false,
            };
            if replace {
                c.status = status;
                c.detail = detail;
            }
            return;
        }
        self.checks.push(Check {
            layer: layer_of(rule),
            rule,
            status,
            detail,
        });
    }

    /// Whether every check passed or did not apply, and at least one passed.
    pub fn is_valid(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Pass)
            && self.checks.iter().all(|c| c.status != Status::Fail)
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Fail)
    }

    /// The first failed check, in layer order.
    pub fn first_failure(&self) -> Option<&Check> {
        first_failure(&self.checks)
    }

    /// The outcome of `rule`, if checked.
    pub fn status(&self, rule: &str) -> Option<Status> {
        status(&self.checks, rule)
    }

    /// Sorts the checks by layer, then by catalogue order.
    pub fn sort(&mut self) {
        let pos = |id: &str| RULES.iter().position(|r| r.id == id).unwrap_or(usize::MAX);
        self.checks.sort_by_key(|c| pos(c.rule));
    }
}
