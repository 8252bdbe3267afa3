// eslint, run by pre-commit on static/: the JavaScript of an Odoo 18 web client addon, i.e.
// ES modules (`/** @odoo-module **/`, imports from "@odoo/owl" and "@web/...") run in a browser.
// Layout is prettier's business (.prettierrc.cjs): only rules that find mistakes are here,
// eslint's recommended set plus the ones Odoo's own web client adds (web/tooling/_eslintrc.json).
const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
    js.configs.recommended,
    {
        files: ["static/**/*.js"],
        languageOptions: {
            ecmaVersion: 2024,
            sourceType: "module",
            globals: {
                ...globals.browser,
                // what the Odoo web client puts on window
                odoo: "readonly",
                owl: "readonly",
                luxon: "readonly",
                Chart: "readonly",
            },
        },
        rules: {
            curly: ["error", "all"],
            eqeqeq: ["error", "smart"],
            "no-console": ["error", { allow: ["warn", "error"] }],
            "no-duplicate-imports": "error",
            "no-restricted-globals": ["error", "event", "self"],
            "no-unused-vars": ["error", { vars: "all", args: "none", caughtErrors: "all" }],
            "prefer-const": ["error", { destructuring: "all" }],
        },
    },
    {
        ignores: ["static/lib/**", "static/src/lib/**"],
    },
];
