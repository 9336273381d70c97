"""The help page answers every question of the seed's FAQ (seed 000 §6, the ECHR eComms manual), in
its own words in French and translated in English, with the spam-folder tip of its chapter 1."""

from __future__ import annotations

from html import unescape

# seed 000 §6, word for word
SEED_QUESTIONS = (
    "Quels types de documents puis-je envoyer ?",
    "Que se passe-t-il si mon fichier PDF n'est pas envoyé immédiatement en raison d'un problème technique "
    "alors que j'ai un délai à respecter ?",
    "Que se passe-t-il en cas de problème technique ?",
    "Quelle est la meilleure résolution pour la numérisation des documents ?",
    "Puis-je envoyer des documents via eComms dans des affaires relevant de l'article 39 du règlement ?",
    "Puis-je envoyer plusieurs documents concernant une même requête via mon compte ECHR Services ?",
    "Puis-je avoir plusieurs comptes ECHR Services ?",
    "Dois-je nommer les documents d'une certaine façon ?",
    "À qui dois-je m'adresser pour créer un compte eComms ?",
    "Combien de temps les fichiers demeurent-ils dans mon compte ECHR Services ?",
    "Puis-je utiliser un lien direct pour me connecter à mon compte ou dois-je toujours utiliser le lien "
    "envoyé par la Cour ?",
    "Avec quels navigateurs internet puis-je accéder à eComms ?",
    "J'essaie de créer mon mot de passe mais il n'est pas accepté.",
    "Est-il possible d'avoir plusieurs adresses électroniques (compte ECHR Services) par compte ?",
    "Je n'arrive pas à télécharger des documents. Après avoir cliqué sur Envoyer, la page se bloque.",
)


def test_every_question_of_the_seeds_faq_is_answered_on_help(app):
    page = unescape(app.test_client().get("/help").get_data(as_text=True))
    missing = [q for q in SEED_QUESTIONS if f"<h2>{q}</h2>" not in page]
    assert not missing, missing
    assert "et l'ajouter à vos favoris" in page and 'href="http://localhost/"' in page  # the direct link
    assert "Non. Vous ne pouvez avoir qu'un seul compte ECHR Services" in page
    assert "désactiver les extensions de votre navigateur" in page and "mode privé" in page
    assert page.count("+33 (0)3 88 41 27 30") >= 3  # the fax, also for a page that freezes
    assert "dossier spam ou courrier indésirable" in page
    assert 'href="/terms"' in page  # the browsers' list is one click away


def test_the_help_page_reads_in_english(app):
    client = app.test_client()
    client.set_cookie("lang", "en")
    page = unescape(client.get("/help").get_data(as_text=True))
    for question in ("Can I use a direct link to sign in to my account, or must I always use the link sent by the Court?",
                     "Which web browsers can I use to access eComms?",
                     "Can I have several email addresses (ECHR Services accounts) per account?",
                     "I cannot upload documents. After I click Send, the page freezes."):
        assert f"<h2>{question}</h2>" in page, question
    assert "add it to your bookmarks" in page and "No. You can only have one ECHR Services account" in page
    assert "disabling your browser's extensions" in page and "spam or junk email folder" in page
    assert not [q for q in SEED_QUESTIONS if q in page]  # none left in French
