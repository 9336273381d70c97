"""The help pages' questions and answers: seed 001's whole FAQ, grouped in its sections, each
section ending with "Avez-vous trouvé la réponse à votre question ?"; the technical section carries
the directory links ("annuaires"). Kept as data so the template stays a loop and every sentence is in
the catalogue once."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Bullets:
    bullets: tuple


@dataclass(frozen=True)
class Question:
    question: object
    answer: tuple


@dataclass(frozen=True)
class Section:
    id: str
    title: object
    questions: tuple
    links: tuple = ()


SECTIONS = (
    Section("espace", _l('Comment fonctionne mon espace personnel ?'), (
        Question(_l('Comment fonctionne mon espace personnel ?'), (
            _l("Cliquez sur le bouton « Accéder à votre espace personnel », en haut à droite de la page d'accueil. Une authentification via FranceConnect vous est proposée par plusieurs fournisseurs d'identité (impots.gouv.fr, ameli.fr, L'Identité Numérique La Poste) : renseignez votre numéro fiscal, votre numéro de sécurité sociale ou votre identifiant La Poste, et le mot de passe correspondant."),
            _l("Se connecter par une autre administration que le Ministère de la Justice n'autorise aucun échange de données entre ces administrations : seule votre identité est contrôlée, pour une connexion sécurisée."),
            _l("Vous devez posséder un compte chez l'un de ces fournisseurs d'identité. Si vous n'en avez pas, créez-en un auprès de l'un de ces organismes."),
            _l("Si vous ne parvenez pas à vous connecter ou avez oublié votre identifiant ou votre mot de passe, rapprochez-vous de l'organisme choisi : c'est lui qui vous les communiquera de nouveau ou vous permettra de les modifier."),
            _l('À chaque connexion, vous pouvez ajouter un dossier à votre espace.'),
        )),
        Question(_l('Pourquoi votre espace personnel est-il vide lors de la 1ère connexion ?'), (
            _l("En l'absence de base informatique nationale, il est impossible de faire le lien entre les dossiers saisis dans les tribunaux et la personne qui se connecte. Vous devez ajouter vous-même votre dossier (voir « Comment pouvez-vous ajouter un dossier ? ») ; il restera ensuite visible à chaque connexion."),
        )),
    )),
    Section("compte", _l('Gestion de compte'), (
        Question(_l('Comment exporter une audience future dans votre calendrier personnel ?'), (
            _l("Plusieurs audiences à venir : utilisez le bandeau « Exporter dans mon calendrier » de la page d'accueil, choisissez les audiences puis le format. Une seule audience : dans le détail du dossier, cliquez sur « Exporter » à côté de l'audience, dans la « Vie du dossier »."),
            _l('Choisissez le format : .ICS pour les agendas de Google, Mac et Microsoft, .CSV pour Google et Microsoft. Les heures sont celles de Paris.'),
            _l("Pour que votre agenda suive les audiences déplacées ou annulées par le tribunal, créez votre adresse d'abonnement dans vos paramètres."),
        )),
        Question(_l('Dans quel cas recevez-vous un message électronique ?'), (
            Bullets((
                _l('Une alerte de mise à jour : dès que vos dossiers sont mis à jour, un courriel vous invite à vous connecter. Vous pouvez désactiver ces alertes dans vos paramètres.'),
                _l('Un rappel de rendez-vous judiciaire : trois jours avant votre audience, un SMS de rappel vous est envoyé. Les rappels ne peuvent pas être désactivés.'),
            )),
            _l("Les alertes sont envoyées à l'adresse électronique et les rappels au téléphone que le tribunal détient, affichés dans « Mes coordonnées »."),
        )),
        Question(_l('Comment pouvez-vous désactiver vos alertes de mise à jour ?'), (
            _l("Cliquez sur votre nom, en haut à droite, puis sur « Paramètres » : désactivez toutes vos alertes, ou celles d'un dossier. Connectez-vous alors régulièrement pour suivre vos dossiers et vos nouveaux documents, qui restent envoyés de manière dématérialisée ; les rappels d'audience par SMS continuent."),
        )),
        Question(_l("Pourquoi ne recevez-vous plus d'alerte de mise à jour ?"), (
            _l("Soit vous avez désactivé toutes vos alertes, ou celles d'un dossier, dans vos paramètres : réactivez-les. Soit votre dossier n'a pas été mis à jour récemment : le délai entre deux mises à jour dépend du dossier et du tribunal. Vérifiez aussi l'adresse indiquée dans « Mes coordonnées ». Sinon, contactez le support."),
        )),
        Question(_l("Pourquoi avez-vous reçu une alerte alors que rien n'a changé dans votre espace ?"), (
            _l('Toute mise à jour de votre dossier envoie une alerte, au sens large : une simple correction orthographique comme un nouvel événement. Les plus minimes peuvent ne pas se voir dans votre espace.'),
        )),
        Question(_l('Vos coordonnées ont changé : comment procéder ?'), (
            _l("Vous ne pouvez pas les modifier depuis votre espace. Informez-en impérativement le tribunal qui gère votre dossier, faute de quoi vous risquez de ne pas recevoir votre numéro d'identification, les alertes et les rappels d'audience."),
        )),
        Question(_l("Pourquoi vos coordonnées ont-elles été modifiées alors qu'elles n'ont pas changé ?"), (
            _l("Contactez impérativement le tribunal en charge de votre dossier pour qu'elles soient rectifiées."),
        )),
    )),
    Section("dossiers", _l('Gestion des dossiers'), (
        Question(_l('Comment rechercher un dossier ?'), (
            _l("La recherche apparaît à partir de cinq dossiers ajoutés. Elle porte sur tous vos dossiers, par nom, prénom ou raison sociale d'une partie (dans n'importe quel ordre), par juridiction, ou par numéro d'identification ; les accents et majuscules sont sans importance. Un ou plusieurs champs peuvent être renseignés."),
        )),
        Question(_l('Comment affiner une recherche ?'), (
            _l('Ajoutez les filtres « Événements proches », « Documents récents », « Dossiers en cours » ou « Dossiers terminés », puis cliquez sur « Filtrer les dossiers ». « Réinitialiser les filtres » efface tous les critères.'),
        )),
        Question(_l('Comment trier la liste des dossiers ?'), (
            _l('Choisissez dans « Trier par » : dernière mise à jour, numéro de dossier, juridiction ou nature.'),
        )),
        Question(_l("Pourquoi ne voyez-vous plus votre dossier alors que vous l'aviez ajouté ?"), (
            Bullets((
                _l("Vous l'avez détaché : ajoutez-le de nouveau avec votre numéro d'identification."),
                _l("Votre accès a été coupé en raison d'un événement particulier de votre procédure (mise sous tutelle, majorité acquise, mesure de protection retirée…)."),
                _l("Votre dossier est terminé depuis plus d'un an et a été archivé."),
            )),
            _l("Si vous n'êtes dans aucun de ces cas, rapprochez-vous du tribunal qui gère votre dossier."),
        )),
        Question(_l('Comment pouvez-vous ajouter un dossier ?'), (
            _l("Cliquez sur « Ajouter un dossier », sous le message de bienvenue. Saisissez le numéro d'identification reçu par courriel une fois votre consentement enregistré par le tribunal, cliquez sur « Obtenir le code par SMS » et saisissez le code reçu sur votre téléphone mobile. Le message « Ce dossier vient d'être ajouté à votre compte » s'affiche."),
            _l("Les dossiers s'ajoutent un à un. Le code est valable 10 minutes ; un nouveau code peut être demandé après une minute."),
        )),
        Question(_l("Pourquoi n'avez-vous pas reçu votre numéro d'identification ?"), (
            _l("Entre la réception de votre dossier ou de votre formulaire de consentement par le tribunal et son enregistrement par le greffe, il peut s'écouler quelques jours, voire quelques semaines selon la charge du tribunal. Le numéro vous est envoyé dès l'enregistrement."),
        )),
        Question(_l("Pouvez-vous recevoir plusieurs numéros d'identification pour une même affaire ?"), (
            _l("Oui, en particulier si vous représentez plusieurs personnes dans une même affaire : ajoutez l'affaire avec chacun des numéros reçus. Votre espace l'affiche une fois, et vous passez d'une personne représentée à l'autre dans le dossier. C'est aussi le cas, plus rare, d'une affaire jointe à une autre."),
            _l('Hors de ces cas, contactez le support.'),
        )),
        Question(_l('Comment détacher un dossier de votre espace personnel ?'), (
            _l("Dans le dossier, cliquez sur « Détacher ce dossier ». Détacher un dossier n'annule ni votre consentement, ni vos alertes, ni l'envoi dématérialisé des avis, convocations et récépissés : il n'est simplement plus visible dans votre espace."),
        )),
        Question(_l('Pourquoi ne peut-on suivre en ligne que certaines procédures ?'), (
            _l("Pour des raisons techniques, d'opportunité ou de sensibilité, certaines procédures ne peuvent pas être suivies en ligne. Le Service d'accueil unique du justiciable (SAUJ) ou le greffe du tribunal peut vous renseigner."),
        )),
        Question(_l('Quelles informations votre espace affiche-t-il ?'), (
            _l('Pour chaque dossier : sa nature (la matière concernée), son état (son avancement), son numéro (attribué par le tribunal, utile pour toute correspondance avec lui) et le tribunal qui le gère avec ses coordonnées.'),
        )),
        Question(_l('Comment localiser le tribunal en charge de votre dossier ?'), (
            _l("Son adresse figure dans le résumé du dossier, à côté de l'icône de localisation, ainsi que sur tous les documents de votre espace. Le tribunal reste votre interlocuteur privilégié."),
        )),
        Question(_l('Comment afficher le détail de votre dossier ?'), (
            _l("Cliquez sur le bouton « Détail » du dossier : le résumé, la « Vie du dossier » et les documents s'affichent."),
        )),
        Question(_l('Que signifie « Vie du dossier » ?'), (
            _l("C'est la ligne chronologique des événements de votre dossier, de la saisine du tribunal à la décision du juge. Les dates figurent à gauche ; des icônes de couleur, chacune avec son libellé, distinguent les événements, audiences, décisions, renvois et documents."),
        )),
        Question(_l('Comment voir le détail des parties ?'), (
            _l("Cliquez sur « Voir le détail des parties » : toutes les parties du dossier s'affichent, classées par rôle (auteur, partie civile, demandeur, débiteur…)."),
        )),
        Question(_l("Pourquoi une audience apparaît-elle alors que vous n'avez pas reçu de convocation ?"), (
            _l('Toutes les audiences ne nécessitent pas la présence des parties, et le juge peut décider hors leur présence :'),
            Bullets((
                _l('une audience future dont seul votre avocat a reçu la convocation ;'),
                _l("une convocation verbale lors de l'audience précédente ;"),
                _l('une audience de délibéré sans avis de délibéré ;'),
                _l('une procédure sans débat contradictoire ni présence des parties (par exemple une requête présentée au Président).'),
            )),
            _l("Votre présence n'est obligatoire que si une convocation vous a été adressée, si le juge vous l'a demandé lors de votre dernière venue, ou si votre avocat vous l'a demandé."),
        )),
        Question(_l('Que signifie le bandeau « Mon dossier est en cours de mise à jour » ?'), (
            _l('Le tribunal met à jour votre dossier : certaines informations peuvent ne pas être encore à jour. Revenez un peu plus tard.'),
        )),
        Question(_l("Pourquoi le détail de la décision n'apparaît-il pas ?"), (
            _l('Votre espace affiche la date de la décision sans la décision, sauf en cas de renvoi, où il affiche la date de la nouvelle audience. Une décision doit être signée par le juge et le greffier ; sans signature électronique qui lui donne valeur juridique, elle ne peut pas être consultée en ligne. Elle est envoyée à votre domicile ou à votre avocat.'),
        )),
        Question(_l('Quels documents sont disponibles ?'), (
            _l('Les récépissés, avis et convocations délivrés par les tribunaux et envoyés en lettre simple, en recommandé sans avis de réception ou par tous moyens. Les autres documents, comme les décisions et notifications, restent envoyés par courrier.'),
        )),
        Question(_l('Pouvez-vous archiver des documents dans votre espace ?'), (
            _l("Non. Les documents sont consultables jusqu'à un an après la clôture du dossier ; imprimez-les ou téléchargez-les pour les conserver."),
        )),
        Question(_l('Combien de temps pouvez-vous visualiser un dossier ?'), (
            _l("Pendant toute sa durée de traitement par le tribunal, puis un an après qu'il est terminé ; il est ensuite supprimé."),
        )),
    )),
    Section("donnees", _l('Données personnelles et sécurité'), (
        Question(_l('Comment vos données sont-elles protégées ?'), (
            _l("Vos données sont strictement personnelles et ne sont en aucun cas communiquées à des sociétés tierces ; leur protection répond aux normes fixées par la CNIL. Votre espace ne demande au fournisseur d'identité que votre nom et un identifiant propre au service (voir « Données personnelles et sécurité »)."),
        )),
        Question(_l('Comment accéder à vos données ou les faire rectifier ?'), (
            _l("Demande d'accès : par écrit, avec un justificatif d'identité, au Ministère de la Justice, 13 place Vendôme, 75001 Paris. Demande de rectification : par écrit, avec un justificatif d'identité, auprès du tribunal en charge du dossier, dont le portail ne fait que reprendre les données."),
        )),
        Question(_l("Vos codes d'accès"), (
            _l("Vos codes d'accès sont strictement personnels et confidentiels : ne les communiquez à personne, y compris à votre avocat. Nous ne vous les demanderons jamais, ni par courriel, ni par téléphone, ni par courrier."),
        )),
    )),
    Section("accessibilite", _l('Accessibilité'), (
        Question(_l('Le site est-il adapté aux personnes mal ou non voyantes ?'), (
            _l("Oui : le bouton « Mode accessibilité », en haut de chaque page, agrandit le texte, renforce les contrastes et réduit les animations, sur tous nos services. Les pages se lisent au lecteur d'écran et au clavier."),
        )),
    )),
    Section("consentement", _l('Consentement à la communication électronique'), (
        Question(_l('Pourquoi consentir à la communication électronique ?'), (
            _l('Elle vous permet de suivre vos dossiers en ligne. Vous ne recevez plus par la poste les récépissés, avis et convocations, mais de manière dématérialisée. Le tribunal enregistre votre consentement dans le dossier.'),
        )),
        Question(_l('Comment consentir ?'), (
            _l("Remplissez le formulaire de consentement disponible à l'accueil de la juridiction en charge de votre affaire et joignez la copie d'une pièce d'identité."),
        )),
        Question(_l('Le consentement supprime-t-il tous les courriers papier ?'), (
            _l('Non. Vous ne recevez plus par la poste les récépissés, avis et convocations envoyés en lettre simple, en recommandé sans accusé de réception ou par tous moyens. Vous continuez de recevoir par la poste les lettres recommandées avec accusé de réception et les autres documents.'),
        )),
        Question(_l('Désactiver les alertes annule-t-il votre consentement ?'), (
            _l("Non, ce sont deux choses différentes : sans alertes, vous n'êtes simplement plus informé par courriel des mises à jour ; votre dossier reste consultable."),
        )),
    )),
    Section("technique", _l('Problèmes et questions techniques'), (
        Question(_l("Que faire en cas d'erreur dans votre dossier ?"), (
            _l("Une erreur de nom, de prénom, d'avocat… : contactez le tribunal qui gère votre dossier. Un dysfonctionnement technique : contactez le support."),
        )),
        Question(_l("Vous n'arrivez pas à ouvrir vos documents PDF ?"), (
            _l('Votre navigateur les ouvre directement ; sinon, installez un lecteur de PDF gratuit, ou utilisez le lien « Télécharger ».'),
        )),
        Question(_l('Quels navigateurs utiliser ?'), (
            _l("Les versions récentes de Firefox, Chrome, Edge, Safari et Opera, sur ordinateur, tablette et mobile. Le site nécessite l'acceptation des cookies ; il fonctionne sans JavaScript."),
        )),
        Question(_l('Les liens vers les annuaires ne fonctionnent pas : comment le signaler ? Où trouver ces professionnels ?'), (
            _l("Les annuaires donnent accès aux structures judiciaires et aux professionnels (tribunaux, services d'accueil unique du justiciable, conciliateurs, avocats, commissaires de justice, notaires). Si un lien ne fonctionne pas, signalez-le au support par le formulaire de contact."),
        )),
    ), links=(
        (_l("Annuaire des tribunaux et des services d'accueil unique du justiciable (justice.fr)"), 'https://www.justice.fr/recherche/annuaires'),
        (_l('Annuaire des avocats (Conseil national des barreaux)'), 'https://www.cnb.avocat.fr/fr/annuaire-des-avocats-de-france'),
        (_l('Annuaire des commissaires de justice'), 'https://commissaire-justice.fr/annuaire/'),
        (_l('Annuaire des notaires'), 'https://www.notaires.fr/fr/annuaires-notaires'),
        (_l('Annuaire des conciliateurs de justice'), 'https://www.conciliateurs.fr/'),
    )),
)
SECTION_IDS = frozenset(section.id for section in SECTIONS)
QUESTION_COUNT = sum(len(section.questions) for section in SECTIONS)
