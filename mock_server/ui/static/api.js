// The web view, part 5 of 6: the public API's spec as a readable page.
"use strict";

views.api = (() => {
  const body = $("a-body");
  let spec = null;
  const refName = (ref) => ref.split("/").pop();
  function schemaText(schema) {
    if (!schema) return "";
    if (schema.$ref) return el("a", { href: `#/api/${refName(schema.$ref)}` }, refName(schema.$ref));
    if (schema.type === "array") return el("span", {}, "array of ", schemaText(schema.items));
    const alts = schema.oneOf || schema.anyOf || schema.allOf;
    if (alts) return el("span", {}, alts.map((s, i) => [i ? " | " : "", schemaText(s)]));
    const bits = [schema.type || "any"];
    if (schema.format) bits.push(`(${schema.format})`);
    if (schema.enum) bits.push(`one of ${schema.enum.join(", ")}`);
    if (schema.minimum !== undefined) bits.push(`≥ ${schema.minimum}`);
    if (schema.maximum !== undefined) bits.push(`≤ ${schema.maximum}`);
    if (schema.pattern) bits.push(`pattern ${schema.pattern}`);
    return bits.join(" ");
  }
  const resolve = (p) => (p.$ref ? spec.components.parameters[refName(p.$ref)] : p);
  function operation(path, verb, op) {
    const params = (op.parameters || []).map(resolve);
    const requestBody = op.requestBody?.content;
    return el(
      "section",
      { class: "op", id: `op-${op.operationId}` },
      el("h3", {}, el("span", { class: `verb ${verb}` }, verb.toUpperCase()), el("code", {}, path)),
      el("p", {}, op.summary || "", op.operationId ? el("span", { class: "muted" }, ` (${op.operationId})`) : null),
      params.length
        ? table(["Parameter", "In", "Required", "Schema", "Description"], params.map((p) => [el("code", {}, p.name), p.in, p.required ? "yes" : "no", schemaText(p.schema), p.description || ""]))
        : null,
      requestBody ? el("p", {}, "Body: ", Object.entries(requestBody).map(([type, c]) => [el("code", {}, type), " ", schemaText(c.schema)])) : null,
      table(
        ["Status", "Description", "Body"],
        Object.entries(op.responses || {}).map(([code, r]) => [
          code,
          r.description || "",
          r.content ? Object.entries(r.content).map(([type, c]) => [el("code", {}, type), " ", schemaText(c.schema)]) : "",
        ]),
      ),
    );
  }
  function schemaSection(name, schema) {
    const required = new Set(schema.required || []);
    return el(
      "section",
      { class: "op", id: `schema-${name}`, tabindex: "-1" },
      el("h3", {}, name),
      schema.description ? el("p", {}, schema.description) : null,
      schema.properties
        ? table(["Field", "Schema", "Required", "Description"], Object.entries(schema.properties).map(([k, s]) => [el("code", {}, k), schemaText(s), required.has(k) ? "yes" : "", [s.description || "", s.readOnly ? " (read-only)" : ""]]))
        : el("p", {}, schemaText(schema)),
    );
  }
  function render() {
    const info = spec.info || {};
    fill(body, 
      el("h2", {}, `${info.title || "API"} ${info.version || ""}`),
      info.description ? el("p", {}, info.description) : null,
      el("p", { class: "muted" }, `OpenAPI ${spec.openapi}. Every operation needs Authorization: Bearer <token> (the mock prints one at start).`),
      el("h2", {}, "Operations"),
      Object.entries(spec.paths).map(([path, ops]) => Object.entries(ops).filter(([v]) => ["get", "post", "put", "patch", "delete"].includes(v)).map(([v, op]) => operation(path, v, op))),
      el("h2", {}, "Schemas"),
      Object.entries(spec.components?.schemas || {}).map(([name, s]) => schemaSection(name, s)),
    );
  }
  return {
    async enter(arg) {
      if (!spec) {
        const res = await call("GET", "/__mock/ui/openapi.json");
        if (!res.ok) return showResult(body, res);
        spec = res.data;
        render();
      }
      if (arg) {
        const target = $(`schema-${arg}`);
        if (target) {
          target.scrollIntoView();
          target.focus();
        }
      }
    },
  };
})();
