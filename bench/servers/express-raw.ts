import { createServer } from "node:http";
import express from "express";
import { serve, serverArgs } from "./harness";
import { RawArticles, type Answer } from "./raw-sql";

/** (3) Express 5 + better-sqlite3 prepared statements, no session. */
const { db } = serverArgs();
const articles = new RawArticles(db);
const app = express();
app.disable("x-powered-by");
app.use(express.json());
const answer = (res: express.Response, { status, body }: Answer) => { res.status(status).json(body); };
app.post("/ajax/blog/article/:pk/get.json", (req, res) => answer(res, articles.get(req.params.pk)));
app.post("/ajax/blog/article/list.json", (req, res) => answer(res, articles.list(req.body)));
app.post("/ajax/blog/article.json", (req, res) => answer(res, articles.create(req.body)));
app.post("/ajax/blog/article/:pk/update.json", (req, res) => answer(res, articles.updateArticle(req.params.pk, req.body)));
serve(createServer(app), { snapshot: () => ({ ...articles.counts }), reset: () => { articles.counts.total = 0; } }, async () => articles.close());
