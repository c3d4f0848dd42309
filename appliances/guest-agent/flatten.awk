# Flattens an XML-RPC methodResponse into `path=value` lines, e.g. `instance.name=web1`,
# `config.web.greeting=Hello`, `records.0.type=MX`; a fault gives `fault.faultString=...`; base64
# values (a keytab) stay base64 on one line.
# Input is what STORM's manager writes: typed values, entities escaped; a newline in a value
# comes out as the two characters \n so every value stays on its line. POSIX awk (busybox).
BEGIN { RS = "<"; depth = 0; vdepth = 0; root = "" }
function unescape(s) {
	gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s); gsub(/&apos;/, "'", s); gsub(/&amp;/, "\\&", s)
	gsub(/\r/, "", s); gsub(/\n/, "\\n", s)
	return s
}
function join_path(prefix, key) { return prefix == "" ? key : prefix "." key }
{
	split($0, parts, ">"); tag = parts[1]
	text = substr($0, length(tag) + 2)
	if (tag == "fault") { root = "fault" }
	else if (tag == "name") { key = unescape(text) }
	else if (tag == "value") {
		# Where this value sits: the member's key in a struct, the next index in an array, or the root.
		if (depth == 0) path = root
		else if (ctype[depth] == "s") path = join_path(cprefix[depth], key)
		else { path = join_path(cprefix[depth], cindex[depth]); cindex[depth]++ }
		vpath[++vdepth] = path
	}
	else if (tag == "/value") { vdepth-- }
	else if (tag == "struct") { depth++; ctype[depth] = "s"; cprefix[depth] = vpath[vdepth] }
	else if (tag == "array") { depth++; ctype[depth] = "a"; cprefix[depth] = vpath[vdepth]; cindex[depth] = 0 }
	else if (tag == "/struct" || tag == "/array") { depth-- }
	else if (tag == "string" || tag == "int" || tag == "i4" || tag == "boolean" || tag == "double") { print vpath[vdepth] "=" unescape(text) }
	else if (tag == "base64") { gsub(/[ \t\r\n]/, "", text); print vpath[vdepth] "=" text }
	else if (tag == "string/") { print vpath[vdepth] "=" }
}
