// prettier, run by pre-commit on the JavaScript and SCSS of static/.
// The layout of Odoo 18's own web client (web/tooling: 4 spaces, double quotes), at the
// 120 columns this repository uses for Python too.
module.exports = {
    printWidth: 120,
    tabWidth: 4,
    semi: true,
    singleQuote: false,
    trailingComma: "es5",
    arrowParens: "always",
    endOfLine: "lf",
};
