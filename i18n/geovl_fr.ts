<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>@default</name>
    <message>
        <location filename="../processing/base.py" line="275"/>
        <source>Device</source>
        <translation>Périphérique de calcul</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="278"/>
        <source>Precision</source>
        <translation>Précision numérique</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="77"/>
        <source>The raster layer &apos;{}&apos; has no coordinate reference system. Assign one (Layer Properties &gt; Source) and run again.</source>
        <translation>La couche raster « {} » n'a pas de système de coordonnées de référence. Attribuez-en un (Propriétés de la couche &gt; Source) puis relancez.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="188"/>
        <source>The extent does not overlap the layer &apos;{}&apos;.</source>
        <translation>L'emprise ne recouvre pas la couche « {} ».</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="87"/>
        <source>Rendering layer &apos;{}&apos; over this extent at this resolution would make a {} x {} px raster, more than {} Mpx. Choose a smaller extent or a coarser resolution (RESOLUTION, metres per pixel).</source>
        <translation>Le rendu de la couche « {} » sur cette emprise à cette résolution donnerait un raster de {} x {} px, plus de {} Mpx. Choisissez une emprise plus petite ou une résolution plus grossière (RESOLUTION, mètres par pixel).</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="96"/>
        <source>Reusing the rendering of layer &apos;{}&apos; in {}.</source>
        <translation>Réutilisation du rendu de la couche « {} » dans {}.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="101"/>
        <source>Rendering layer &apos;{}&apos; to a {} x {} px GeoTIFF.</source>
        <translation>Rendu de la couche « {} » en un GeoTIFF de {} x {} px.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="202"/>
        <source>Layer &apos;{}&apos; has no native resolution (web map/tile layer): set the resolution (RESOLUTION, metres per pixel) to render it at.</source>
        <translation>La couche « {} » n'a pas de résolution propre (couche web ou de tuiles) : indiquez la résolution de rendu (RESOLUTION, mètres par pixel).</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="78"/>
        <source>the folder {} does not exist</source>
        <translation>le dossier {} n'existe pas</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="83"/>
        <source>GeoVL cannot write in {} ({})</source>
        <translation>GeoVL ne peut pas écrire dans {} ({})</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="98"/>
        <source>The cached rendering {} is damaged; rendering layer &apos;{}&apos; again.</source>
        <translation>Le rendu en cache {} est endommagé ; la couche « {} » est rendue à nouveau.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="106"/>
        <source>GeoVL cannot make the folder {} ({})</source>
        <translation>GeoVL ne peut pas créer le dossier {} ({})</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="108"/>
        <source>Cannot render layer &apos;{}&apos; into GeoVL&apos;s cache: {}. Set GEOVL_CACHE_DIR to a folder you can write to.</source>
        <translation>Impossible de rendre la couche « {} » dans le cache de GeoVL : {}. Faites pointer GEOVL_CACHE_DIR vers un dossier où vous pouvez écrire.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="142"/>
        <source>The run was cancelled; no output was written.</source>
        <translation>L'exécution a été annulée ; aucune sortie n'a été écrite.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="155"/>
        <source>Rendering layer &apos;{}&apos; into {} failed (QGIS writer error {}). Is the disk full? Free some space, or set GEOVL_CACHE_DIR to a folder on another disk.</source>
        <translation>Le rendu de la couche « {} » dans {} a échoué (erreur {} de l'écriture QGIS). Le disque est-il plein ? Libérez de la place, ou faites pointer GEOVL_CACHE_DIR vers un dossier sur un autre disque.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/plugin.py" line="69"/>
        <source>Runtime…</source>
        <translation>Environnement d'exécution…</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/plugin.py" line="70"/>
        <source>Settings…</source>
        <translation>Paramètres…</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/plugin.py" line="130"/>
        <source>Install Example Model</source>
        <translation>Installer le modèle d'exemple</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/plugin.py" line="72"/>
        <source>Documentation</source>
        <translation>Documentation</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="41"/>
        <source>GeoVL</source>
        <translation>GeoVL</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/plugin.py" line="130"/>
        <source>{} exists and differs from GeoVL&apos;s example model (you may have edited it). Replace it with the original?</source>
        <translation>{} existe déjà et diffère du modèle d'exemple de GeoVL (vous l'avez peut-être modifié). Le remplacer par l'original ?</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/plugin.py" line="140"/>
        <source>The example model could not be installed ({}). Check that the Processing models folder (Settings › Options › Processing › Models) exists and can be written to.</source>
        <translation>Le modèle d'exemple n'a pas pu être installé ({}). Vérifiez que le dossier des modèles de traitement (Préférences › Options › Traitement › Modèles) existe et est accessible en écriture.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/plugin.py" line="146"/>
        <source>The example model is installed as {}: find it in the Processing Toolbox under Models › GeoVL, or open it in the Model Designer.</source>
        <translation>Le modèle d'exemple est installé sous {} : retrouvez-le dans la Boîte à outils de traitements sous Modèles › GeoVL, ou ouvrez-le dans le Modeleur graphique.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="60"/>
        <source>GeoVL cache folder</source>
        <translation>Dossier de cache de GeoVL</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="69"/>
        <source>Retrieval indexes (tile embeddings)</source>
        <translation>Index de recherche (plongements des tuiles)</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="70"/>
        <source>Segment Anything image embeddings</source>
        <translation>Plongements d'images de Segment Anything</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="71"/>
        <source>Rendered web and virtual layers</source>
        <translation>Rendus des couches web et virtuelles</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="75"/>
        <source>Clear</source>
        <translation>Vider</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="77"/>
        <source>Delete the {} subfolder of the cache folder. Runs rebuild what they need.</source>
        <translation>Supprime le sous-dossier {} du dossier de cache. Les exécutions reconstruisent ce dont elles ont besoin.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="84"/>
        <source>All of the cache folder</source>
        <translation>Tout le dossier de cache</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="87"/>
        <source>Cache</source>
        <translation>Cache</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="90"/>
        <source>Folder (empty: the default)</source>
        <translation>Dossier (vide : celui par défaut)</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="101"/>
        <source>New runs start with</source>
        <translation>Valeurs initiales des nouvelles exécutions</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="105"/>
        <source>Default models (empty: the built-in default)</source>
        <translation>Modèles par défaut (vide : le modèle intégré par défaut)</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="108"/>
        <source>Text-to-image retrieval</source>
        <translation>Recherche d'images par texte</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="108"/>
        <source>Prompted segmentation</source>
        <translation>Segmentation guidée par invites</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="109"/>
        <source>Grounded question</source>
        <translation>Question localisée</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="109"/>
        <source>Change detection backbone</source>
        <translation>Réseau de base de la détection des changements</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="113"/>
        <source>A preset, a hub id (org/name) or a local path; empty: {}</source>
        <translation>Un préréglage, un identifiant du hub (org/nom) ou un chemin local ; vide : {}</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/settings_page.py" line="132"/>
        <source>The environment variable GEOVL_CACHE_DIR is set: runs use {} whatever this setting says. Unset it to use the folder above.</source>
        <translation>La variable d'environnement GEOVL_CACHE_DIR est définie : les exécutions utilisent {} quel que soit ce paramètre. Supprimez-la pour utiliser le dossier ci-dessus.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="273"/>
        <source>Model</source>
        <translation>Modèle</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="275"/>
        <source>auto: a CUDA GPU, else Apple MPS, else the CPU.</source>
        <translation>auto : un GPU CUDA, sinon Apple MPS, sinon le CPU.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="278"/>
        <source>auto: bf16 where the device runs it natively (CUDA GPUs with bf16, CPUs with AVX512-BF16 or AMX), else fp32.</source>
        <translation>auto : bf16 là où le périphérique le prend en charge nativement (GPU CUDA avec bf16, CPU avec AVX512-BF16 ou AMX), sinon fp32.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="291"/>
        <source>A preset (the list shows which are already in the local model cache; the others download from the Hugging Face hub on first use), a hub id (org/name), or a local checkpoint file or model folder (the … button).</source>
        <translation>Un préréglage (la liste indique ceux déjà présents dans le cache local des modèles ; les autres sont téléchargés depuis le hub Hugging Face à la première utilisation), un identifiant du hub (org/nom), ou un fichier de poids ou un dossier de modèle local (le bouton …).</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="297"/>
        <source>Extent</source>
        <translation>Emprise</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="297"/>
        <source>The part of the raster to work on; default: the whole raster.</source>
        <translation>La partie du raster à traiter ; par défaut : tout le raster.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="299"/>
        <source>Bands</source>
        <translation>Bandes</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="299"/>
        <source>1 band for grey, or 3 for red, green, blue; default: the raster&apos;s RGB colour interpretation, else its first three bands.</source>
        <translation>1 bande pour du gris, ou 3 pour rouge, vert, bleu ; par défaut : l'interprétation des couleurs RVB du raster, sinon ses trois premières bandes.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="308"/>
        <source>Tile size (px)</source>
        <translation>Taille des tuiles (px)</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="308"/>
        <source>Pixels a side of the tiles the model sees; 0: the model&apos;s input size.</source>
        <translation>Côté en pixels des tuiles que voit le modèle ; 0 : la taille d'entrée du modèle.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="311"/>
        <source>Tile overlap (px)</source>
        <translation>Recouvrement des tuiles (px)</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="311"/>
        <source>Pixels neighbouring tiles share, for objects on tile borders.</source>
        <translation>Pixels partagés par les tuiles voisines, pour les objets situés en bordure de tuile.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="314"/>
        <source>Resolution (m/px)</source>
        <translation>Résolution (m/px)</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="314"/>
        <source>Ground metres per pixel the raster is resampled to before tiling; 0: the raster&apos;s own.</source>
        <translation>Mètres au sol par pixel auxquels le raster est rééchantillonné avant le découpage en tuiles ; 0 : sa propre résolution.</translation>
    </message>
    <message>
        <location filename="../processing/model_widget.py" line="42"/>
        <source>in the local cache</source>
        <translation>dans le cache local</translation>
    </message>
    <message>
        <location filename="../processing/model_widget.py" line="44"/>
        <source>downloads from the Hugging Face hub</source>
        <translation>à télécharger depuis le hub Hugging Face</translation>
    </message>
    <message>
        <location filename="../processing/model_widget.py" line="78"/>
        <source>A preset from the list, a Hugging Face hub id (org/name), or a local checkpoint file or model folder (…)</source>
        <translation>Un préréglage de la liste, un identifiant du hub Hugging Face (org/nom), ou un fichier de poids ou un dossier de modèle local (…)</translation>
    </message>
    <message>
        <location filename="../processing/model_widget.py" line="86"/>
        <source>Browse for a checkpoint file or a model folder</source>
        <translation>Parcourir pour choisir un fichier de poids ou un dossier de modèle</translation>
    </message>
    <message>
        <location filename="../processing/model_widget.py" line="89"/>
        <source>Checkpoint file…</source>
        <translation>Fichier de poids…</translation>
    </message>
    <message>
        <location filename="../processing/model_widget.py" line="90"/>
        <source>Model folder…</source>
        <translation>Dossier de modèle…</translation>
    </message>
    <message>
        <location filename="../processing/model_widget.py" line="113"/>
        <source>Model checkpoint file</source>
        <translation>Fichier de poids du modèle</translation>
    </message>
    <message>
        <location filename="../processing/model_widget.py" line="113"/>
        <source>Checkpoints ({})</source>
        <translation>Fichiers de poids ({})</translation>
    </message>
    <message>
        <location filename="../processing/model_widget.py" line="113"/>
        <source>All files (*)</source>
        <translation>Tous les fichiers (*)</translation>
    </message>
    <message>
        <location filename="../processing/model_widget.py" line="120"/>
        <source>Model folder (written by save_pretrained)</source>
        <translation>Dossier de modèle (écrit par save_pretrained)</translation>
    </message>
    <message>
        <location filename="../processing/model_widget.py" line="129"/>
        <source>Asking the GeoVL runtime for the presets and the local model cache…</source>
        <translation>Interrogation de l'environnement d'exécution de GeoVL sur les préréglages et le cache local des modèles…</translation>
    </message>
    <message>
        <location filename="../processing/model_widget.py" line="135"/>
        <source>listing the models</source>
        <translation>récupération de la liste des modèles</translation>
    </message>
    <message>
        <location filename="../processing/model_widget.py" line="138"/>
        <source>GeoVL: listing models</source>
        <translation>GeoVL : récupération de la liste des modèles</translation>
    </message>
    <message>
        <location filename="../processing/model_widget.py" line="146"/>
        <source>The GeoVL runtime could not list the presets ({}); type a model.</source>
        <translation>L'environnement d'exécution de GeoVL n'a pas pu lister les préréglages ({}) ; saisissez un modèle.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="144"/>
        <source>Rendering layer &apos;{}&apos; failed: its data could not be fetched ({} error(s); the first: {}). The rendering would have blank areas, so nothing was kept. Check the network connection and that the service answers (open the layer on the map), then run again.</source>
        <translation>Le rendu de la couche « {} » a échoué : ses données n'ont pas pu être récupérées ({} erreur(s) ; la première : {}). Le rendu aurait eu des zones vides, rien n'a donc été conservé. Vérifiez la connexion réseau et que le service répond (affichez la couche sur la carte), puis relancez.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="179"/>
        <source>Layer &apos;{}&apos; has no extent of its own: using the map view ({}).</source>
        <translation>La couche « {} » n'a pas d'emprise propre : utilisation de l'emprise du canevas de carte ({}).</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="182"/>
        <source>Layer &apos;{}&apos; is a web map or tile layer with no extent of its own: set the extent to work on (EXTENT, e.g. xmin,xmax,ymin,ymax [EPSG:code]).</source>
        <translation>La couche « {} » est une couche web ou de tuiles sans emprise propre : indiquez l'emprise à traiter (EXTENT, par ex. xmin,xmax,ymin,ymax [EPSG:code]).</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="191"/>
        <source>Layer &apos;{}&apos; has no resolution of its own: using the map view&apos;s, {:.3g} m per pixel.</source>
        <translation>La couche « {} » n'a pas de résolution propre : utilisation de celle du canevas de carte, {:.3g} m par pixel.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="246"/>
        <source>{}: no answer in time</source>
        <translation>{} : pas de réponse dans le délai imparti</translation>
    </message>
    <message>
        <location filename="../processing/reports.py" line="22"/>
        <source>HTML files (*.html)</source>
        <translation>Fichiers HTML (*.html)</translation>
    </message>
    <message>
        <location filename="../processing/runtime_link.py" line="119"/>
        <source>GeoVL's runtime is not installed: open Plugins › GeoVL › Runtime… and press Install (about {:.0f} GB).</source>
        <translation>L'environnement d'exécution de GeoVL n'est pas installé : ouvrez Extensions › GeoVL › Environnement d'exécution… et cliquez sur Installer (environ {:.0f} Go).</translation>
    </message>
    <message>
        <location filename="../processing/styles.py" line="60"/>
        <source>The style {} cannot be read ({}).</source>
        <translation>Le style {} ne peut pas être lu ({}).</translation>
    </message>
    <message>
        <location filename="../processing/styles.py" line="178"/>
        <source>The result {} was loaded without its style: {}</source>
        <translation>Le résultat {} a été chargé sans son style : {}</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="150"/>
        <source>Rendering layer &apos;{}&apos; gave nothing: its server has no tile over this extent (it answered &quot;no tile here&quot;, HTTP 404 or 204, to all {} tile request(s), e.g. {}). The extent is outside the server&apos;s coverage: choose an extent where the layer shows data on the map (EXTENT), then run again.</source>
        <translation>Le rendu de la couche « {} » n'a rien donné : son serveur n'a aucune tuile sur cette emprise (il a répondu « pas de tuile ici », HTTP 404 ou 204, aux {} requête(s) de tuile, par ex. {}). L'emprise est hors de la couverture du serveur : choisissez une emprise où la couche affiche des données sur la carte (EXTENT), puis relancez.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="159"/>
        <source>The server of layer &apos;{}&apos; has no tile for {} of the {} tile request(s) (HTTP 404 or 204): those areas are nodata.</source>
        <translation>Le serveur de la couche « {} » n'a pas de tuile pour {} des {} requête(s) de tuile (HTTP 404 ou 204) : ces zones sont sans données (nodata).</translation>
    </message>
    <message>
        <location filename="../runtime/client.py" line="95"/>
        <source>still running</source>
        <translation>toujours en cours</translation>
    </message>
    <message>
        <location filename="../runtime/client.py" line="100"/>
        <source>signal</source>
        <translation>signal</translation>
    </message>
    <message>
        <location filename="../runtime/client.py" line="102"/>
        <source>signal {}, {}, killed: often for lack of memory</source>
        <translation>signal {}, {}, tué : souvent par manque de mémoire</translation>
    </message>
    <message>
        <location filename="../runtime/client.py" line="103"/>
        <source>signal {}, {}</source>
        <translation>signal {}, {}</translation>
    </message>
    <message>
        <location filename="../runtime/client.py" line="104"/>
        <source>exit code {}</source>
        <translation>code de sortie {}</translation>
    </message>
    <message>
        <location filename="../runtime/client.py" line="154"/>
        <source>The run was cancelled; the GeoVL runtime did not stop in time and was restarted. No output was written.</source>
        <translation>L'exécution a été annulée ; l'environnement d'exécution de GeoVL ne s'est pas arrêté à temps et a été redémarré. Aucune sortie n'a été écrite.</translation>
    </message>
    <message>
        <location filename="../runtime/client.py" line="193"/>
        <source>GeoVL runtime: a line that is not a message: {!r}</source>
        <translation>Environnement d'exécution de GeoVL : une ligne qui n'est pas un message : {!r}</translation>
    </message>
    <message>
        <location filename="../runtime/client.py" line="219"/>
        <source>no message</source>
        <translation>aucun message</translation>
    </message>
    <message>
        <location filename="../runtime/client.py" line="220"/>
        <source>GeoVL's runtime could not start ({}): {}. Open Plugins › GeoVL › Runtime… to see what is wrong and press Repair.</source>
        <translation>L'environnement d'exécution de GeoVL n'a pas pu démarrer ({}) : {}. Ouvrez Extensions › GeoVL › Environnement d'exécution… pour voir ce qui ne va pas et cliquez sur Réparer.</translation>
    </message>
    <message>
        <location filename="../runtime/client.py" line="222"/>
        <source>{:.0f} % done; {}</source>
        <translation>{:.0f} % effectués ; {}</translation>
    </message>
    <message>
        <location filename="../runtime/client.py" line="223"/>
        <source>The GeoVL runtime stopped while {} ({}). Nothing was written. Run the algorithm again: a new runtime starts.</source>
        <translation>L'environnement d'exécution de GeoVL s'est arrêté pendant l'étape « {} » ({}). Rien n'a été écrit. Relancez l'algorithme : un nouvel environnement d'exécution démarre.</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="76"/>
        <source>running the job</source>
        <translation>exécution de la tâche</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/ask_dock.py" line="42"/>
        <source>GeoVL Ask</source>
        <translation>Interrogation GeoVL</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="40"/>
        <source>Raster</source>
        <translation>Raster</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/ask_dock.py" line="58"/>
        <source>A VLM preset (florence-2-base, qwen2.5-vl-3b, geochat, …), a hub id or a model folder.</source>
        <translation>Un préréglage de VLM (florence-2-base, qwen2.5-vl-3b, geochat, …), un identifiant du hub ou un dossier de modèle.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/ask_dock.py" line="62"/>
        <source>Ask the top tiles of the layer</source>
        <translation>Interroger les meilleures tuiles de la couche</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/ask_dock.py" line="63"/>
        <source>Instead of the map view, ask the tiles of the whole layer most like the question (found by retrieval with {}).</source>
        <translation>Au lieu du canevas de carte, interroger les tuiles de toute la couche qui correspondent le mieux à la question (trouvées par recherche avec {}).</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/ask_dock.py" line="78"/>
        <source>Where are the planes?</source>
        <translation>Où sont les avions ?</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/ask_dock.py" line="80"/>
        <source>Ask</source>
        <translation>Demander</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="81"/>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/ask_dock.py" line="98"/>
        <source>Type a question first.</source>
        <translation>Tapez d'abord une question.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/ask_dock.py" line="100"/>
        <source>Choose the raster to ask about.</source>
        <translation>Choisissez le raster à interroger.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/ask_dock.py" line="113"/>
        <source>The map shows nothing yet: zoom to the layer &apos;{}&apos;.</source>
        <translation>La carte n'affiche encore rien : zoomez sur la couche « {} ».</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/ask_dock.py" line="125"/>
        <source>asking</source>
        <translation>interrogation</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/ask_dock.py" line="129"/>
        <source>Asking {}: {}</source>
        <translation>Question posée à {} : {}</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_tool.py" line="222"/>
        <source>Cancelled.</source>
        <translation>Annulé.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/plugin.py" line="61"/>
        <source>Segment Tool</source>
        <translation>Outil de segmentation</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/plugin.py" line="64"/>
        <source>Click on a raster to segment an object (left: object, right: background, drag: box; Enter accepts)</source>
        <translation>Cliquez sur un raster pour segmenter un objet (clic gauche : objet, clic droit : fond, glisser : boîte ; Enter accepte)</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/plugin.py" line="66"/>
        <source>Ask About the Map…</source>
        <translation>Interroger la carte…</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/plugin.py" line="68"/>
        <source>Ask a vision-language model about the map view</source>
        <translation>Interroger un modèle vision-langage sur le canevas de carte</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="32"/>
        <source>GeoVL Segment</source>
        <translation>Segmentation GeoVL</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="39"/>
        <source>The raster to segment; web layers are rendered at the map view&apos;s resolution.</source>
        <translation>Le raster à segmenter ; les couches web sont rendues à la résolution du canevas de carte.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="44"/>
        <source>A SAM or SAM 2 preset (sam-vit-b, sam2.1-hiera-tiny, …), a hub id, or a checkpoint file or folder.</source>
        <translation>Un préréglage SAM ou SAM 2 (sam-vit-b, sam2.1-hiera-tiny, …), un identifiant du hub, ou un fichier ou un dossier de poids.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="48"/>
        <source>Choose a checkpoint file</source>
        <translation>Choisir un fichier de poids</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="55"/>
        <source>The class field of the objects you accept.</source>
        <translation>La valeur du champ de classe des objets que vous acceptez.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="56"/>
        <source>Class</source>
        <translation>Classe</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="61"/>
        <source>The polygon layer accepted objects are added to; empty: a new memory layer &apos;{}&apos; with the fields of geovl:segment.</source>
        <translation>La couche de polygones à laquelle les objets acceptés sont ajoutés ; vide : une nouvelle couche temporaire « {} » avec les champs de geovl:segment.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="63"/>
        <source>Add to</source>
        <translation>Ajouter à</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="76"/>
        <source>Left click: object · right click: background · drag: box</source>
        <translation>Clic gauche : objet · clic droit : fond · glisser : boîte</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="80"/>
        <source>Accept</source>
        <translation>Accepter</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="80"/>
        <source>Undo</source>
        <translation>Défaire</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="82"/>
        <source>Add the object to the layer (Enter)</source>
        <translation>Ajouter l'objet à la couche (Enter)</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="83"/>
        <source>Take back the last prompt (Backspace)</source>
        <translation>Retirer la dernière invite (Backspace)</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="84"/>
        <source>Drop the object&apos;s prompts (Esc)</source>
        <translation>Effacer les invites de l'objet (Esc)</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="85"/>
        <source>Stop encoding</source>
        <translation>Arrêter l'encodage</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="94"/>
        <source>SAM checkpoint</source>
        <translation>Fichier de poids SAM</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="142"/>
        <source>Choose the raster to segment in the GeoVL Segment dock.</source>
        <translation>Choisissez le raster à segmenter dans le panneau Segmentation GeoVL.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="144"/>
        <source>Choose a model in the GeoVL Segment dock (e.g. sam-vit-b).</source>
        <translation>Choisissez un modèle dans le panneau Segmentation GeoVL (par ex. sam-vit-b).</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="115"/>
        <source>The click is outside the raster &apos;{}&apos;.</source>
        <translation>Le clic est en dehors du raster « {} ».</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="127"/>
        <source>The map shows nothing to segment yet: zoom to the layer &apos;{}&apos;.</source>
        <translation>La carte n'affiche encore rien à segmenter : zoomez sur la couche « {} ».</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="130"/>
        <source>Rendering '{}' over the map view…</source>
        <translation>Rendu de « {} » sur l'emprise du canevas de carte…</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_tool.py" line="241"/>
        <source>Nothing to accept yet: click on an object and wait for its preview.</source>
        <translation>Rien à accepter pour l'instant : cliquez sur un objet et attendez son aperçu.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_tool.py" line="279"/>
        <source>The layer &apos;{}&apos; did not take the object: {}</source>
        <translation>La couche « {} » n'a pas accepté l'objet : {}</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_tool.py" line="279"/>
        <source>is it editable?</source>
        <translation>est-elle en mode édition ?</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_tool.py" line="285"/>
        <source>Added the object to &apos;{}&apos; (press Save Layer Edits to keep it).</source>
        <translation>Objet ajouté à « {} » (cliquez sur Enregistrer les modifications de la couche pour le conserver).</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_tool.py" line="296"/>
        <source>Segmenting…</source>
        <translation>Segmentation…</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_tool.py" line="297"/>
        <source>segmenting</source>
        <translation>segmentation</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_tool.py" line="353"/>
        <source>Tiles ready: {} encoded now, the rest from the cache or already open.</source>
        <translation>Tuiles prêtes : {} encodées maintenant, les autres viennent du cache ou étaient déjà ouvertes.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_tool.py" line="353"/>
        <source>Tiles ready (from the cache).</source>
        <translation>Tuiles prêtes (depuis le cache).</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_tool.py" line="362"/>
        <source>Score {:.2f} on {} tile(s) · Enter accepts, Esc clears, Backspace undoes</source>
        <translation>Score {:.2f} sur {} tuile(s) · Enter accepte, Esc efface, Backspace défait</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_tool.py" line="437"/>
        <source>Encoding the tiles under the cursor…</source>
        <translation>Encodage des tuiles sous le curseur…</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_tool.py" line="438"/>
        <source>encoding tiles</source>
        <translation>encodage des tuiles</translation>
    </message>
    <message>
        <location filename="../processing/runtime_link.py" line="88"/>
        <source>GeoVL server</source>
        <translation>Serveur GeoVL</translation>
    </message>
    <message>
        <location filename="../processing/runtime_link.py" line="94"/>
        <source>QGIS could not keep the token in its authentication database (Settings › Options › Authentication): set its master password, then try again.</source>
        <translation>QGIS n'a pas pu garder le jeton dans sa base d'authentification (Préférences › Options › Authentification) : définissez son mot de passe principal, puis réessayez.</translation>
    </message>
    <message>
        <location filename="../processing/runtime_link.py" line="115"/>
        <source>GeoVL is set to run on a server, but its address or token is missing: open Plugins › GeoVL › Runtime… and give both (or choose Local).</source>
        <translation>GeoVL doit travailler sur un serveur, mais son adresse ou son jeton manque : ouvrez Extensions › GeoVL › Environnement d'exécution… et donnez les deux (ou choisissez Cet ordinateur).</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="41"/>
        <source>&apos;{}&apos; is not a GeoVL server address: give it as http://host:port or https://host:port.</source>
        <translation>« {} » n'est pas une adresse de serveur GeoVL : donnez-la sous la forme http://hôte:port ou https://hôte:port.</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="80"/>
        <source>The run was cancelled; the GeoVL server did not stop it in time. No output was written here.</source>
        <translation>Le traitement a été annulé ; le serveur GeoVL ne l'a pas arrêté à temps. Aucune sortie n'a été écrite ici.</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="75"/>
        <source> ({:.0f} % done)</source>
        <translation> ({:.0f} % fait)</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="76"/>
        <source>The GeoVL server at {} stopped answering while {}{}. Nothing was written. Check that it still runs, then run the algorithm again.</source>
        <translation>Le serveur GeoVL à {} a cessé de répondre pendant {}{}. Rien n'a été écrit. Vérifiez qu'il tourne encore, puis relancez l'algorithme.</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="160"/>
        <source>Sending {} to the GeoVL server ({:.0f} MB).</source>
        <translation>Envoi de {} au serveur GeoVL ({:.0f} Mo).</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="166"/>
        <source>The run was cancelled while sending {} to the GeoVL server; nothing was written.</source>
        <translation>Le traitement a été annulé pendant l'envoi de {} au serveur GeoVL ; rien n'a été écrit.</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="202"/>
        <source>The output {} came back from the GeoVL server cut short ({} of {} bytes); run again.</source>
        <translation>La sortie {} est revenue du serveur GeoVL tronquée ({} octets sur {}) ; relancez.</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="206"/>
        <source>Cannot write the output {} fetched from the GeoVL server ({}). Is the disk full?</source>
        <translation>Impossible d'écrire la sortie {} reçue du serveur GeoVL ({}). Le disque est-il plein ?</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="256"/>
        <source>{} answered, but not as a GeoVL server: check the address in Plugins › GeoVL › Runtime….</source>
        <translation>{} a répondu, mais pas comme un serveur GeoVL : vérifiez l'adresse dans Extensions › GeoVL › Environnement d'exécution….</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="274"/>
        <source>The GeoVL server at {} refused the token. Paste the token its `serve` command printed into Plugins › GeoVL › Runtime….</source>
        <translation>Le serveur GeoVL à {} a refusé le jeton. Collez le jeton affiché par sa commande `serve` dans Extensions › GeoVL › Environnement d'exécution….</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="278"/>
        <source>The GeoVL server at {} refused the request (HTTP {}): {}</source>
        <translation>Le serveur GeoVL à {} a refusé la requête (HTTP {}) : {}</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="283"/>
        <source>Cannot reach the GeoVL server at {} ({}). Check that `python -m geovl.runtime.serve` runs there and the address in Plugins › GeoVL › Runtime….</source>
        <translation>Impossible de joindre le serveur GeoVL à {} ({}). Vérifiez que `python -m geovl.runtime.serve` y tourne, et l'adresse dans Extensions › GeoVL › Environnement d'exécution….</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="293"/>
        <source>The run was cancelled; nothing was written.</source>
        <translation>Le traitement a été annulé ; rien n'a été écrit.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="99"/>
        <source>The installation was cancelled; the runtime is not installed (install again to finish it).</source>
        <translation>L'installation a été annulée ; l'environnement d'exécution n'est pas installé (relancez l'installation pour la terminer).</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="137"/>
        <source>{} does not run as Python</source>
        <translation>{} ne s'exécute pas comme Python</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="140"/>
        <source>{} is Python {}; GeoVL needs 3.10 or newer</source>
        <translation>{} est Python {} ; GeoVL demande la version 3.10 ou plus récente</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="142"/>
        <source>{} is itself a virtual environment</source>
        <translation>{} est lui-même un environnement virtuel</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="144"/>
        <source>{} cannot make virtual environments ({})</source>
        <translation>{} ne peut pas créer d'environnements virtuels ({})</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="200"/>
        <source>GEOVL_PYTHON names a Python GeoVL cannot use: {}. Point it at a Python 3.10 or newer that has the venv module, or unset it, then install again.</source>
        <translation>GEOVL_PYTHON désigne un Python que GeoVL ne peut pas utiliser : {}. Faites-la pointer vers un Python 3.10 ou plus récent qui a le module venv, ou supprimez-la, puis relancez l'installation.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="203"/>
        <source>install Python 3.12 from python.org (tick &quot;Add python.exe to PATH&quot;) or from the Microsoft Store</source>
        <translation>installez Python 3.12 depuis python.org (cochez « Add python.exe to PATH ») ou depuis le Microsoft Store</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="205"/>
        <source>install Python 3.12 from python.org or with Homebrew (brew install python@3.12)</source>
        <translation>installez Python 3.12 depuis python.org ou avec Homebrew (brew install python@3.12)</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="207"/>
        <source>install it from your distribution (Debian/Ubuntu: sudo apt install python3 python3-venv)</source>
        <translation>installez-le depuis votre distribution (Debian/Ubuntu : sudo apt install python3 python3-venv)</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="208"/>
        <source>No Python 3.10 or newer that can make virtual environments was found on this machine: {}, or set the environment variable GEOVL_PYTHON to one, then install again.</source>
        <translation>Aucun Python 3.10 ou plus récent capable de créer des environnements virtuels n'a été trouvé sur cette machine : {}, ou faites pointer la variable d'environnement GEOVL_PYTHON vers un tel Python, puis relancez l'installation.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="249"/>
        <source>macOS: torch from PyPI, which runs on the CPU and on Apple GPUs (MPS).</source>
        <translation>macOS : torch depuis PyPI, qui tourne sur le CPU et sur les GPU Apple (MPS).</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="254"/>
        <source>An NVIDIA GPU was found ({}): the CUDA build of torch from {}.</source>
        <translation>Un GPU NVIDIA a été trouvé ({}) : la version CUDA de torch depuis {}.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="259"/>
        <source>No NVIDIA GPU was found: the CPU build of torch from {} (about {:.1f} GB).</source>
        <translation>Aucun GPU NVIDIA trouvé : la version CPU de torch depuis {} (environ {:.1f} Go).</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="263"/>
        <source>No NVIDIA GPU was found and {} did not answer: torch from PyPI, whose Windows build runs on the CPU.</source>
        <translation>Aucun GPU NVIDIA trouvé et {} n'a pas répondu : torch depuis PyPI, dont la version Windows tourne sur le CPU.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="266"/>
        <source>No NVIDIA GPU was found, but {} (the CPU build) did not answer: torch from PyPI, whose build carries CUDA (about {:.0f} GB) and runs on the CPU too.</source>
        <translation>Aucun GPU NVIDIA trouvé, mais {} (la version CPU) n'a pas répondu : torch depuis PyPI, dont la version embarque CUDA (environ {:.0f} Go) et tourne aussi sur le CPU.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="308"/>
        <source>Cannot read {} ({}): check the path and install again.</source>
        <translation>Impossible de lire {} ({}) : vérifiez le chemin et relancez l'installation.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="322"/>
        <source>the disk is full: free some space</source>
        <translation>le disque est plein : libérez de la place</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="322"/>
        <source>check the folder&apos;s permissions</source>
        <translation>vérifiez les droits du dossier</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="324"/>
        <source>Could not write {} ({}): {}, then install again.</source>
        <translation>Impossible d'écrire {} ({}) : {}, puis relancez l'installation.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="331"/>
        <source>{} is a file, not a folder: choose another folder for the runtime.</source>
        <translation>{} est un fichier, pas un dossier : choisissez un autre dossier pour l'environnement d'exécution.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="334"/>
        <source>{} is not empty and is not a GeoVL runtime (it has no runtime.json and no pyvenv.cfg), so it might hold your own files and the installer leaves it alone: choose an empty or new folder (the QGIS setting geovl/runtime, or GEOVL_RUNTIME).</source>
        <translation>{} n'est pas vide et n'est pas un environnement d'exécution de GeoVL (il n'a ni runtime.json ni pyvenv.cfg) : il pourrait contenir vos propres fichiers, l'installateur n'y touche donc pas. Choisissez un dossier vide ou nouveau (le paramètre QGIS geovl/runtime, ou GEOVL_RUNTIME).</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="367"/>
        <source>{} could not start ({}): {}.</source>
        <translation>{} n'a pas pu démarrer ({}) : {}.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="398"/>
        <source>{} failed: the disk is full (No space left on device). Free some space (the runtime takes a few GB) or choose a folder on another disk, then install again.</source>
        <translation>{} a échoué : le disque est plein (No space left on device). Libérez de la place (l'environnement d'exécution occupe quelques Go) ou choisissez un dossier sur un autre disque, puis relancez l'installation.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="401"/>
        <source>{} failed (exit status {}). Its last lines:
{}
Fix what they name (often the network or a proxy: pip&apos;s own settings apply), then install again.</source>
        <translation>{} a échoué (code de sortie {}). Ses dernières lignes :
{}
Corrigez ce qu'elles signalent (souvent le réseau ou un proxy : les réglages propres à pip s'appliquent), puis relancez l'installation.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="410"/>
        <source>The runtime&apos;s Python ({}) does not start or cannot list its packages: repair it.</source>
        <translation>Le Python de l'environnement d'exécution ({}) ne démarre pas ou ne peut pas lister ses paquets : réparez-le.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="441"/>
        <source>The runtime in {} is installed and up to date.</source>
        <translation>L'environnement d'exécution dans {} est installé et à jour.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="451"/>
        <source>Could not remove {} ({}): check the folder&apos;s permissions.</source>
        <translation>Impossible de supprimer {} ({}) : vérifiez les droits du dossier.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="458"/>
        <source>Creating the runtime&apos;s environment in {} from {}</source>
        <translation>Création de l'environnement d'exécution dans {} à partir de {}</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="460"/>
        <source>Creating the environment</source>
        <translation>La création de l'environnement</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="471"/>
        <source>torch and torchvision from the wheel folder {}, whichever build it holds.</source>
        <translation>torch et torchvision depuis le dossier de wheels {}, quelle que soit la version qu'il contient.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="478"/>
        <source>pip installing torch</source>
        <translation>L'installation de torch par pip</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="492"/>
        <source>pip installing the runtime&apos;s packages</source>
        <translation>L'installation des paquets de l'environnement d'exécution par pip</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="503"/>
        <source>The runtime is installed in {} (Python {}).</source>
        <translation>L'environnement d'exécution est installé dans {} (Python {}).</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="534"/>
        <source>CUDA GPU {} ({:.0f} GiB)</source>
        <translation>GPU CUDA {} ({:.0f} Gio)</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="536"/>
        <source>Apple GPU (MPS)</source>
        <translation>GPU Apple (MPS)</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="539"/>
        <source>CPU with native bf16 (AVX512-BF16/AMX)</source>
        <translation>CPU avec bf16 natif (AVX512-BF16/AMX)</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="539"/>
        <source>CPU without native bf16 (models run in fp32)</source>
        <translation>CPU sans bf16 natif (les modèles tournent en fp32)</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="565"/>
        <source>unknown</source>
        <translation>inconnu</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="571"/>
        <source>The runtime is not installed in {}: press Install (about {:.1f} GB).</source>
        <translation>L'environnement d'exécution n'est pas installé dans {} : cliquez sur Installer (environ {:.1f} Go).</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="575"/>
        <source>The installation in {} did not finish (it has no runtime.json): press Repair.</source>
        <translation>L'installation dans {} ne s'est pas terminée (il n'y a pas de runtime.json) : cliquez sur Réparer.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="578"/>
        <source>The runtime&apos;s Python ({}) does not start: press Repair.</source>
        <translation>Le Python de l'environnement d'exécution ({}) ne démarre pas : cliquez sur Réparer.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="586"/>
        <source>unknown (torch cannot be imported)</source>
        <translation>inconnu (torch ne peut pas être importé)</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="587"/>
        <source>torch cannot be imported in the runtime ({}): press Repair.</source>
        <translation>torch ne peut pas être importé dans l'environnement d'exécution ({}) : cliquez sur Réparer.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="591"/>
        <source>The runtime lacks {}: press Repair.</source>
        <translation>Il manque {} à l'environnement d'exécution : cliquez sur Réparer.</translation>
    </message>
    <message>
        <location filename="../runtime/install.py" line="594"/>
        <source>An NVIDIA GPU is present ({}) but the runtime&apos;s torch {} cannot use it: press Repair to install the CUDA build (or update the GPU driver).</source>
        <translation>Un GPU NVIDIA est présent ({}) mais le torch {} de l'environnement d'exécution ne peut pas l'utiliser : cliquez sur Réparer pour installer la version CUDA (ou mettez à jour le pilote du GPU).</translation>
    </message>
    <message>
        <location filename="../runtime/remote.py" line="117"/>
        <source>Cannot read {} to send it to the GeoVL server ({}): check that the file exists and can be read.</source>
        <translation>Impossible de lire {} pour l’envoyer au serveur GeoVL ({}) : vérifiez que le fichier existe et peut être lu.</translation>
    </message>
    <message>
        <location filename="../processing/archive.py" line="28"/>
        <source>Archive: STAC ItemCollection, VRT or list of rasters</source>
        <translation>Archive : STAC ItemCollection, VRT ou liste de rasters</translation>
    </message>
    <message>
        <location filename="../processing/archive.py" line="28"/>
        <source>A STAC ItemCollection (or Item) JSON, a VRT, or a text file with one raster path per line. Or give a folder, or raster layers, below.</source>
        <translation>Un JSON STAC ItemCollection (ou Item), un VRT, ou un fichier texte avec un chemin de raster par ligne. Ou bien indiquez un dossier, ou des couches raster, ci-dessous.</translation>
    </message>
    <message>
        <location filename="../processing/archive.py" line="32"/>
        <source>Or a folder of rasters</source>
        <translation>Ou un dossier de rasters</translation>
    </message>
    <message>
        <location filename="../processing/archive.py" line="34"/>
        <source>Or raster layers</source>
        <translation>Ou des couches raster</translation>
    </message>
    <message>
        <location filename="../processing/archive.py" line="39"/>
        <source>Ray address</source>
        <translation>Adresse Ray</translation>
    </message>
    <message>
        <location filename="../processing/archive.py" line="39"/>
        <source>ray://host:10001 or auto for a Ray cluster; empty: RAY_ADDRESS, else a local Ray instance on this machine; {}: no Ray, in the GeoVL runtime itself.</source>
        <translation>ray://host:10001 ou auto pour un cluster Ray ; vide : RAY_ADDRESS, sinon une instance Ray locale sur cette machine ; {} : sans Ray, dans l'environnement d'exécution de GeoVL lui-même.</translation>
    </message>
    <message>
        <location filename="../processing/archive.py" line="43"/>
        <source>Ray workers</source>
        <translation>Workers Ray</translation>
    </message>
    <message>
        <location filename="../processing/archive.py" line="43"/>
        <source>Copies of the model on Ray; 0: one per GPU of the cluster, else one per CPU.</source>
        <translation>Nombre de copies du modèle sur Ray ; 0 : une par GPU du cluster, sinon une par CPU.</translation>
    </message>
    <message>
        <location filename="../processing/archive.py" line="46"/>
        <source>STAC asset</source>
        <translation>Asset STAC</translation>
    </message>
    <message>
        <location filename="../processing/archive.py" line="46"/>
        <source>The key of the STAC items&apos; asset to read; default: visual, else the first image asset.</source>
        <translation>La clé de l'asset des items STAC à lire ; par défaut : visual, sinon le premier asset image.</translation>
    </message>
    <message>
        <location filename="../processing/archive.py" line="49"/>
        <source>1 band for grey, or 3 for red, green, blue (1,2,3); default: each raster&apos;s RGB colour interpretation, else its first three bands.</source>
        <translation>1 bande pour du gris, ou 3 pour rouge, vert, bleu (1,2,3) ; par défaut : l'interprétation des couleurs RVB de chaque raster, sinon ses trois premières bandes.</translation>
    </message>
    <message>
        <location filename="../processing/archive.py" line="57"/>
        <source>Give the archive one way: a STAC ItemCollection, VRT or list file (INPUT), a folder (FOLDER), or raster layers (LAYERS).</source>
        <translation>Donnez l'archive d'une seule façon : un STAC ItemCollection, un VRT ou un fichier de liste (INPUT), un dossier (FOLDER), ou des couches raster (LAYERS).</translation>
    </message>
    <message>
        <location filename="../processing/archive.py" line="65"/>
        <source>Archive jobs run on Ray, not on a GeoVL server: in Plugins › GeoVL › Runtime… choose Local, and give the Ray address of a cluster (RAY_ADDRESS) to use more machines.</source>
        <translation>Les traitements d'archive tournent sur Ray, pas sur un serveur GeoVL : dans Extensions › GeoVL › Environnement d'exécution…, choisissez Cet ordinateur, et indiquez l'adresse Ray d'un cluster (RAY_ADDRESS) pour utiliser plusieurs machines.</translation>
    </message>
    <message>
        <location filename="../processing/archive.py" line="88"/>
        <source>The layer {} is not a raster file (a web or virtual layer): an archive is made of files. Export it (Raster › Conversion › Translate) or run the one-raster algorithm on it.</source>
        <translation>La couche {} n'est pas un fichier raster (c'est une couche web ou virtuelle) : une archive est faite de fichiers. Exportez-la (Raster › Conversion › Traduire) ou lancez dessus l'algorithme qui traite un seul raster.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="64"/>
        <source>Preview under the cursor</source>
        <translation>Aperçu sous le curseur</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_dock.py" line="67"/>
        <source>Before the first click, show faintly what a click where the cursor rests would segment (on tiles already encoded).</source>
        <translation>Avant le premier clic, montrer en transparence ce qu’un clic là où repose le curseur segmenterait (sur les tuiles déjà encodées).</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/segment_tool.py" line="450"/>
        <source>previewing</source>
        <translation>aperçu</translation>
    </message>
</context>
<context>
    <name>AskAlgorithm</name>
    <message>
        <location filename="../processing/ask.py" line="42"/>
        <source>Ask a grounded question</source>
        <translation>Poser une question localisée</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="55"/>
        <source>Asks a vision-language model a question about a raster layer (&quot;Where are the airplanes parked?&quot;, &quot;How many storage tanks are in this port?&quot;) and puts every object it names on the map.

The raster is cut into tiles of the model&apos;s input size and each tile is asked. For a large raster, select the top-k tiles: a retrieval model ranks all tiles against the question first (its tile index is cached, as in Text-to-image retrieval) and only the k best are asked, which is much faster.

Modes: answer only (text); boxes (each grounded object as a polygon; rotated boxes of GeoChat stay rotated; the same object seen by two overlapping tiles is kept once); masks (the boxes prompt a Segment Anything model, GeoPixel-style, and the masks become polygons).

Models: florence-2-base (default, runs on a CPU), florence-2-large, qwen2.5-vl-3b, qwen2.5-vl-7b, qwen3-vl-2b, qwen3-vl-8b, kosmos-2, a hub id or a local folder of one of these families, or a GeoChat checkpoint converted with scripts/convert_geochat.py.

Outputs: the objects (label, score where the model gives one, tile, question, model, source); the tiles asked with their answers; the combined answer as a string for the next step of a model (counts are summed for &quot;how many&quot; questions, otherwise one line per tile with its location); an HTML report with a thumbnail of each asked tile and its boxes.</source>
        <translation>Pose une question à un modèle vision-langage sur une couche raster (« Où sont garés les avions ? », « Combien de réservoirs y a-t-il dans ce port ? ») et place sur la carte chaque objet qu'il nomme.

Le raster est découpé en tuiles de la taille d'entrée du modèle et chaque tuile est interrogée. Pour un grand raster, choisissez les k meilleures tuiles : un modèle de recherche classe d'abord toutes les tuiles selon la question (son index de tuiles est mis en cache, comme dans Recherche texte-image) et seules les k meilleures sont interrogées, ce qui est bien plus rapide.

Modes : réponse seule (texte) ; boîtes (chaque objet localisé en polygone ; les boîtes orientées de GeoChat restent orientées ; un même objet vu par deux tuiles qui se chevauchent n'est gardé qu'une fois) ; masques (les boîtes guident un modèle Segment Anything, à la manière de GeoPixel, et les masques deviennent des polygones).

Modèles : florence-2-base (par défaut, fonctionne sur un CPU), florence-2-large, qwen2.5-vl-3b, qwen2.5-vl-7b, qwen3-vl-2b, qwen3-vl-8b, kosmos-2, un identifiant du hub ou un dossier local de l'une de ces familles, ou un point de contrôle GeoChat converti avec scripts/convert_geochat.py.

Sorties : les objets (libellé, score quand le modèle en donne un, tuile, question, modèle, source) ; les tuiles interrogées avec leurs réponses ; la réponse combinée, en chaîne pour l'étape suivante d'un modèle (les nombres sont additionnés pour les questions « combien », sinon une ligne par tuile avec sa position) ; un rapport HTML avec une vignette de chaque tuile interrogée et ses boîtes.</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="73"/>
        <source>Raster layer</source>
        <translation>Couche raster</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="74"/>
        <source>Question</source>
        <translation>Question</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="78"/>
        <source>Output</source>
        <translation>Sortie</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="78"/>
        <source>Answer only</source>
        <translation>Réponse seule</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="78"/>
        <source>Boxes</source>
        <translation>Boîtes</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="83"/>
        <source>Tiles to ask</source>
        <translation>Tuiles à interroger</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="83"/>
        <source>All tiles</source>
        <translation>Toutes les tuiles</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="109"/>
        <source>Grounded objects</source>
        <translation>Objets localisés</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="111"/>
        <source>Tiles asked</source>
        <translation>Tuiles interrogées</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="114"/>
        <source>Report</source>
        <translation>Rapport</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="163"/>
        <source>Answer</source>
        <translation>Réponse</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="122"/>
        <source>Choose a raster layer (INPUT).</source>
        <translation>Choisissez une couche raster (INPUT).</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="125"/>
        <source>The question is empty. Type a question about the raster, e.g. &quot;Where are the airplanes parked?&quot;.</source>
        <translation>La question est vide. Tapez une question sur le raster, par exemple « Où sont garés les avions ? ».</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="142"/>
        <source>Answer:</source>
        <translation>Réponse :</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="45"/>
        <source>Search and ask</source>
        <translation>Recherche et interrogation</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="51"/>
        <source>ask,question,answer,vlm,vision-language,grounding,detection,boxes,florence,qwen,kosmos,geochat,geopixel,count</source>
        <translation>interroger,question,réponse,vlm,vision-langage,localisation,détection,boîtes,florence,qwen,kosmos,geochat,geopixel,compter,ask,answer,grounding</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="74"/>
        <source>A question about the raster, e.g. &quot;Where are the airplanes parked?&quot; or &quot;How many storage tanks are there?&quot;.</source>
        <translation>Une question sur le raster, par exemple « Où sont garés les avions ? » ou « Combien y a-t-il de réservoirs ? ».</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="78"/>
        <source>Masks (SAM from the boxes)</source>
        <translation>Masques (SAM à partir des boîtes)</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="78"/>
        <source>Answer only: text; boxes: each object the model names as a polygon; masks: the boxes prompt a Segment Anything model.</source>
        <translation>Réponse seule : du texte ; boîtes : chaque objet nommé par le modèle, en polygone ; masques : les boîtes guident un modèle Segment Anything.</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="83"/>
        <source>Top tiles by retrieval</source>
        <translation>Meilleures tuiles par recherche</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="83"/>
        <source>All tiles, or only the best-ranked tiles: a retrieval model ranks every tile against the question first (much faster on a large raster).</source>
        <translation>Toutes les tuiles, ou seulement les mieux classées : un modèle de recherche classe d'abord chaque tuile selon la question (bien plus rapide sur un grand raster).</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="90"/>
        <source>Retrieval model</source>
        <translation>Modèle de recherche</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="95"/>
        <source>Number of tiles to ask</source>
        <translation>Nombre de tuiles à interroger</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="95"/>
        <source>How many of the best-ranked tiles are asked.</source>
        <translation>Le nombre de tuiles interrogées parmi les mieux classées.</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="100"/>
        <source>Segmentation model</source>
        <translation>Modèle de segmentation</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="106"/>
        <source>Longest answer (tokens)</source>
        <translation>Réponse la plus longue (jetons)</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="106"/>
        <source>The most tokens the model writes per tile.</source>
        <translation>Le nombre maximal de jetons que le modèle écrit par tuile.</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="135"/>
        <source>asking the model</source>
        <translation>interrogation du modèle</translation>
    </message>
</context>
<context>
    <name>ChangeAlgorithm</name>
    <message>
        <location filename="../processing/change.py" line="39"/>
        <source>Detect and caption changes</source>
        <translation>Détecter et décrire les changements</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="52"/>
        <source>Compares two acquisitions of the same place (BEFORE, AFTER) and maps where they changed, how much, and in words what changed, per change region and overall.

AFTER is warped onto BEFORE's grid when their CRS or resolution differ; only their overlap is compared. Both rasters are compared band by band (all bands, or the BANDS chosen, read from both).

Methods: change vector analysis (no model: each band is normalised to its raster's mean and spread, so a global brightness change does not count, and Otsu's threshold splits the magnitudes); IR-MAD (no model: iteratively reweighted multivariate alteration detection, threshold at the 99 % chi-square quantile); deep-feature difference (a backbone such as clip-rsicd, git-rsclip or sam-vit-b compares patch features). A threshold given overrides the automatic one.

Every region gets a factual caption (area, where, brighter or darker, vegetation gain or loss where red and near-infrared bands are named). With a caption model (florence-2-base, qwen2.5-vl-3b, ...), the largest regions and the whole pair are also described by the model.

Outputs: change polygons (area in m², mean magnitude, captions), the magnitude raster, the change mask (1 change, 0 none), the overall caption as a string, and an HTML report with before/after pictures of the largest regions.</source>
        <translation>Compare deux acquisitions d'un même lieu (BEFORE, AFTER) et cartographie où elles ont changé, de combien, et en mots ce qui a changé, par zone de changement et dans l'ensemble.

AFTER est reprojeté sur la grille de BEFORE quand leur SCR ou leur résolution diffèrent ; seul leur recouvrement est comparé. Les deux rasters sont comparés bande par bande (toutes les bandes, ou les bandes choisies dans BANDS, lues dans les deux).

Méthodes : analyse du vecteur de changement (sans modèle : chaque bande est normalisée par la moyenne et l'écart type de son raster, si bien qu'un changement global de luminosité ne compte pas, et le seuil d'Otsu sépare les amplitudes) ; IR-MAD (sans modèle : détection multivariée des altérations itérativement repondérée, seuil au quantile à 99 % du khi-deux) ; différence de caractéristiques profondes (un réseau de base tel que clip-rsicd, git-rsclip ou sam-vit-b compare les caractéristiques des imagettes). Un seuil donné remplace le seuil automatique.

Chaque zone reçoit une légende factuelle (surface, position, plus claire ou plus sombre, gain ou perte de végétation lorsque les bandes rouge et proche infrarouge sont nommées). Avec un modèle de légendes (florence-2-base, qwen2.5-vl-3b, ...), les plus grandes zones et la paire entière sont aussi décrites par le modèle.

Sorties : les polygones de changement (surface en m², amplitude moyenne, légendes), le raster d'amplitude, le masque de changement (1 changement, 0 aucun), la légende d'ensemble sous forme de chaîne, et un rapport HTML avec des images avant/après des plus grandes zones.</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="77"/>
        <source>Method</source>
        <translation>Méthode</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="77"/>
        <source>Change vector analysis (no model)</source>
        <translation>Analyse du vecteur de changement (sans modèle)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="77"/>
        <source>IR-MAD (no model)</source>
        <translation>IR-MAD (sans modèle)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="116"/>
        <source>Longest caption (tokens)</source>
        <translation>Légende la plus longue (jetons)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="121"/>
        <source>Change regions</source>
        <translation>Zones de changement</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="123"/>
        <source>Change magnitude</source>
        <translation>Amplitude du changement</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="125"/>
        <source>Change mask</source>
        <translation>Masque de changement</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="127"/>
        <source>Report</source>
        <translation>Rapport</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="177"/>
        <source>Overall caption</source>
        <translation>Légende d'ensemble</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="136"/>
        <source>Choose two raster layers: BEFORE and AFTER.</source>
        <translation>Choisissez deux couches raster : BEFORE et AFTER.</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="42"/>
        <source>Map objects and changes</source>
        <translation>Cartographie des objets et des changements</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="48"/>
        <source>change,change detection,bi-temporal,before,after,difference,cva,ir-mad,mad,caption,monitoring</source>
        <translation>changement,détection des changements,bitemporel,avant,après,différence,cva,ir-mad,mad,légende,suivi,change,change detection</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="70"/>
        <source>Before</source>
        <translation>Avant</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="70"/>
        <source>The earlier raster.</source>
        <translation>Le raster le plus ancien.</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="73"/>
        <source>After</source>
        <translation>Après</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="73"/>
        <source>The later raster of the same place; warped onto BEFORE&apos;s grid if needed.</source>
        <translation>Le raster le plus récent du même lieu ; reprojeté sur la grille de BEFORE si nécessaire.</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="77"/>
        <source>Deep-feature difference</source>
        <translation>Différence de caractéristiques profondes</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="77"/>
        <source>CVA and IR-MAD need no model; the deep-feature difference compares a backbone model&apos;s patch features.</source>
        <translation>CVA et IR-MAD ne nécessitent aucun modèle ; la différence de caractéristiques profondes compare les caractéristiques des imagettes d'un réseau de base.</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="83"/>
        <source>Backbone</source>
        <translation>Réseau de base</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="87"/>
        <source>The model of the deep-feature method (clip-rsicd, git-rsclip, sam-vit-b, …): </source>
        <translation>Le modèle de la méthode des caractéristiques profondes (clip-rsicd, git-rsclip, sam-vit-b, …) : </translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="89"/>
        <source>Caption model</source>
        <translation>Modèle de légendes</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="91"/>
        <source>A vision-language model that describes the largest regions and the whole pair; empty: factual captions only. </source>
        <translation>Un modèle vision-langage qui décrit les plus grandes zones et la paire entière ; vide : légendes factuelles seulement. </translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="94"/>
        <source>Threshold</source>
        <translation>Seuil</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="94"/>
        <source>Threshold on the change magnitude; not set: automatic (Otsu for CVA, the 99 % chi-square quantile for IR-MAD).</source>
        <translation>Seuil sur l'amplitude du changement ; non défini : automatique (Otsu pour CVA, le quantile à 99 % du khi-deux pour IR-MAD).</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="99"/>
        <source>Smallest region (m²)</source>
        <translation>Plus petite zone (m²)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="99"/>
        <source>Change regions smaller than this are dropped; specks thinner than 3 pixels are always removed.</source>
        <translation>Les zones de changement plus petites sont écartées ; les taches de moins de 3 pixels d'épaisseur sont toujours supprimées.</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="107"/>
        <source>Bands to compare</source>
        <translation>Bandes à comparer</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="108"/>
        <source>Read from both rasters; default: all bands.</source>
        <translation>Lues dans les deux rasters ; par défaut : toutes les bandes.</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="111"/>
        <source>Regions to caption</source>
        <translation>Zones à décrire</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="111"/>
        <source>How many regions the caption model describes, largest first.</source>
        <translation>Le nombre de zones que décrit le modèle de légendes, les plus grandes d'abord.</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="116"/>
        <source>The most tokens the caption model writes per caption.</source>
        <translation>Le nombre maximal de jetons que le modèle de légendes écrit par légende.</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="151"/>
        <source>detecting changes</source>
        <translation>détection des changements</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="176"/>
        <source>Overall caption:</source>
        <translation>Légende d'ensemble :</translation>
    </message>
</context>
<context>
    <name>GeoVLAlgorithm</name>
    <message>
        <location filename="../processing/base.py" line="215"/>
        <source>{} would overwrite the input {} ({}). Choose another file name for the output.</source>
        <translation>{} écraserait l'entrée {} ({}). Choisissez un autre nom de fichier pour la sortie.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="219"/>
        <source>{} and {} are the same file ({}). Give each output its own file name.</source>
        <translation>{} et {} sont le même fichier ({}). Donnez à chaque sortie son propre nom de fichier.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="225"/>
        <source>Cannot write {} to {}: {}. Choose a folder that exists and that you can write to.</source>
        <translation>Impossible d'écrire {} dans {} : {}. Choisissez un dossier qui existe et où vous pouvez écrire.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="256"/>
        <source>the file cannot be read back</source>
        <translation>le fichier ne peut pas être relu</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="265"/>
        <source>Writing {} to {} failed ({}). Is the disk full? Free some space or choose another folder, and run again.</source>
        <translation>L'écriture de {} dans {} a échoué ({}). Le disque est-il plein ? Libérez de la place ou choisissez un autre dossier, puis relancez.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="265"/>
        <source>no reason given</source>
        <translation>sans raison donnée</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="360"/>
        <source>BANDS must be band numbers, such as 1 for grey or 1,2,3 for red, green, blue; not &apos;{}&apos;.</source>
        <translation>BANDS doit contenir des numéros de bandes, comme 1 pour du gris ou 1,2,3 pour rouge, vert, bleu ; pas « {} ».</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="377"/>
        <source>The GeoVL runtime&apos;s result {} cannot be read ({}).</source>
        <translation>Le résultat {} de l'environnement d'exécution de GeoVL ne peut pas être lu ({}).</translation>
    </message>
</context>
<context>
    <name>GeoVLProvider</name>
    <message>
        <location filename="../geovl_plugin/provider.py" line="25"/>
        <source>GeoVL (vision-language)</source>
        <translation>GeoVL (vision-langage)</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/provider.py" line="28"/>
        <source>GeoVL: remote-sensing vision-language models</source>
        <translation>GeoVL : modèles vision-langage pour la télédétection</translation>
    </message>
</context>
<context>
    <name>IndexArchiveAlgorithm</name>
    <message>
        <location filename="../processing/index_archive.py" line="28"/>
        <source>Index an archive of rasters</source>
        <translation>Indexer une archive de rasters</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="31"/>
        <source>Search and ask</source>
        <translation>Recherche et interrogation</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="37"/>
        <source>archive,index,retrieval,search,query,stac,vrt,mosaic,scenes,ray,cluster,batch,clip,embedding</source>
        <translation>archive,index,indexer,recherche,requête,stac,vrt,mosaïque,scènes,ray,cluster,lot,clip,plongement,retrieval,search,query,mosaic,scenes,batch,embedding</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="41"/>
        <source>Builds one retrieval index over the tiles of many rasters (an archive of scenes, the sheets of an orthophoto mosaic), and finds the tiles of all of them that best match a text query.

The archive is a STAC ItemCollection JSON of COGs, a VRT (its source files), a text list of raster paths (one per line), a folder of rasters, or raster layers. Each tile of the index records its source raster: the index&apos;s layer archive_tiles shows it with the raster&apos;s path.

The tiles are embedded on Ray: a local Ray instance on this machine, or the cluster at the Ray address (ray://host:10001; default RAY_ADDRESS), with one copy of the model per worker (per GPU where the cluster has GPUs). A run that is cancelled or stopped goes on, when run again, from the tiles it wrote; a finished index is reused while the rasters, model and tiling are unchanged.

Outputs: the top-k tiles for the query (when one is given) with their raster, and the index (a GeoPackage).</source>
        <translation>Construit un seul index de recherche sur les tuiles de nombreux rasters (une archive de scènes, les dalles d'une mosaïque d'orthophotos), et trouve, parmi les tuiles de tous ces rasters, celles qui correspondent le mieux à une requête textuelle.

L'archive est un JSON STAC ItemCollection de COG, un VRT (ses fichiers sources), une liste texte de chemins de rasters (un par ligne), un dossier de rasters ou des couches raster. Chaque tuile de l'index enregistre son raster source : la couche archive_tiles de l'index l'affiche avec le chemin du raster.

Les tuiles sont encodées sur Ray : une instance Ray locale sur cette machine, ou le cluster à l'adresse Ray (ray://host:10001 ; par défaut RAY_ADDRESS), avec une copie du modèle par worker (par GPU lorsque le cluster a des GPU). Une exécution annulée ou interrompue reprend, quand on la relance, à partir des tuiles qu'elle a écrites ; un index terminé est réutilisé tant que les rasters, le modèle et le tuilage sont inchangés.

Sorties : les k meilleures tuiles pour la requête (si une requête est donnée) avec leur raster, et l'index (un GeoPackage).</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="56"/>
        <source>Query text</source>
        <translation>Texte de la requête</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="56"/>
        <source>What to find across the archive; leave empty to build the index only.</source>
        <translation>Ce qu'il faut trouver dans toute l'archive ; laissez vide pour seulement construire l'index.</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="58"/>
        <source>Negative text</source>
        <translation>Texte négatif</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="60"/>
        <source>Number of results</source>
        <translation>Nombre de résultats</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="63"/>
        <source>Batch size</source>
        <translation>Taille des lots</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="65"/>
        <source>Matching tiles</source>
        <translation>Tuiles correspondantes</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="67"/>
        <source>Archive index (default: kept in the GeoVL cache)</source>
        <translation>Index de l'archive (par défaut : conservé dans le cache GeoVL)</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="67"/>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="70"/>
        <source>Tiles in the index</source>
        <translation>Tuiles dans l'index</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="71"/>
        <source>Rasters in the index</source>
        <translation>Rasters dans l'index</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="80"/>
        <source>indexing the archive</source>
        <translation>indexation de l'archive</translation>
    </message>
    <message>
        <location filename="../processing/index_archive.py" line="85"/>
        <source>{} tiles of {} rasters in the index ({} embedded in this run, {} by an earlier one).</source>
        <translation>{} tuiles de {} rasters dans l'index ({} encodées lors de cette exécution, {} lors d'une exécution précédente).</translation>
    </message>
</context>
<context>
    <name>InstallerTask</name>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="49"/>
        <source>The installer failed unexpectedly: {0}: {1}</source>
        <translation>L'installateur a échoué de manière inattendue : {0} : {1}</translation>
    </message>
</context>
<context>
    <name>RetrieveAlgorithm</name>
    <message>
        <location filename="../processing/retrieve.py" line="32"/>
        <source>Text-to-image retrieval</source>
        <translation>Recherche d'images par texte</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="59"/>
        <source>Raster layer</source>
        <translation>Couche raster</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="63"/>
        <source>Query text</source>
        <translation>Texte de la requête</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="79"/>
        <source>Batch size</source>
        <translation>Taille des lots</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="81"/>
        <source>Matching tiles</source>
        <translation>Tuiles correspondantes</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="83"/>
        <source>Similarity heatmap</source>
        <translation>Carte de chaleur de similarité</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="85"/>
        <source>Tile index (default: kept in the GeoVL cache)</source>
        <translation>Index des tuiles (par défaut : conservé dans le cache GeoVL)</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="85"/>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="101"/>
        <source>Choose a raster layer (INPUT).</source>
        <translation>Choisissez une couche raster (INPUT).</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="92"/>
        <source>Give a query text (QUERY), or a query layer (QUERY_LAYER) with features showing what to find.</source>
        <translation>Donnez un texte de requête (QUERY), ou une couche requête (QUERY_LAYER) dont les entités montrent ce qu'il faut trouver.</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="116"/>
        <source>{} tiles in the index ({} embedded in this run).</source>
        <translation>{} tuiles dans l'index ({} encodées lors de cette exécution).</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="119"/>
        <source>like {} feature(s) of the query layer</source>
        <translation>semblable à {} entité(s) de la couche requête</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="151"/>
        <source>The query layer has no features with a geometry.</source>
        <translation>La couche requête n'a aucune entité avec une géométrie.</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="45"/>
        <source>Finds the tiles of a raster layer that best match a text query (&quot;storage tanks next to a harbour&quot;), or that look like the features of a query layer.

The raster is cut into tiles that are embedded once by an image-text model into a tile index (a GeoPackage); later queries on the same raster, model and tiling reuse it and only embed the text.

Model presets: clip-rsicd (default, CLIP fine-tuned on RSICD, fast on a CPU), git-rsclip and git-rsclip-base (SigLIP, Git-10M), remoteclip-vit-b-32 / remoteclip-vit-l-14 / remoteclip-rn50, georsclip-vit-b-32, clip-vit-b-32. A hub id (org/name) or a local folder or checkpoint file also works; ARCH:FILE names the open_clip architecture of a checkpoint file (e.g. ViT-B-32-quickgelu:/models/RS5M_ViT-B-32.pt).

Outputs: the top-k tile footprints ranked by score (cosine similarity; minus the similarity to the negative text when one is given), an optional heatmap with one score per tile, and the tile index.</source>
        <translation>Trouve les tuiles d'une couche raster qui correspondent le mieux à une requête textuelle (« des réservoirs près d'un port »), ou qui ressemblent aux entités d'une couche requête.

Le raster est découpé en tuiles, encodées une seule fois par un modèle image-texte dans un index de tuiles (un GeoPackage) ; les requêtes suivantes sur le même raster, avec le même modèle et le même tuilage, le réutilisent et n'encodent que le texte.

Préréglages de modèles : clip-rsicd (par défaut, CLIP affiné sur RSICD, rapide sur un CPU), git-rsclip et git-rsclip-base (SigLIP, Git-10M), remoteclip-vit-b-32 / remoteclip-vit-l-14 / remoteclip-rn50, georsclip-vit-b-32, clip-vit-b-32. Un identifiant du hub (org/nom), un dossier local ou un fichier de poids conviennent aussi ; ARCH:FICHIER nomme l'architecture open_clip d'un fichier de poids (par ex. ViT-B-32-quickgelu:/models/RS5M_ViT-B-32.pt).

Sorties : les emprises des k meilleures tuiles classées par score (similarité cosinus ; moins la similarité au texte négatif s'il est donné), une carte de chaleur facultative avec un score par tuile, et l'index des tuiles.</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="35"/>
        <source>Search and ask</source>
        <translation>Recherche et interrogation</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="41"/>
        <source>search,find,retrieval,query,text,image,clip,siglip,remoteclip,embedding,similarity,tiles</source>
        <translation>recherche,trouver,requête,texte,image,clip,siglip,remoteclip,plongement,similarité,tuiles,search,retrieval</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="63"/>
        <source>What to find, in a few words (&quot;storage tanks&quot;) or a sentence. Required unless a query layer is given.</source>
        <translation>Ce qu'il faut trouver, en quelques mots (« réservoirs ») ou en une phrase. Obligatoire sauf si une couche requête est donnée.</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="68"/>
        <source>Negative text</source>
        <translation>Texte négatif</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="68"/>
        <source>What not to find: its similarity is subtracted from the score.</source>
        <translation>Ce qu'il ne faut pas trouver : sa similarité est soustraite du score.</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="71"/>
        <source>Or a query layer</source>
        <translation>Ou une couche requête</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="71"/>
        <source>Features showing examples of what to find: the tiles that look like them are found, instead of (or together with) the query text.</source>
        <translation>Des entités montrant des exemples de ce qu'il faut trouver : les tuiles qui leur ressemblent sont trouvées, à la place du texte de la requête (ou en plus de celui-ci).</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="76"/>
        <source>Number of results</source>
        <translation>Nombre de résultats</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="111"/>
        <source>indexing and searching the tiles</source>
        <translation>indexation et recherche des tuiles</translation>
    </message>
</context>
<context>
    <name>RuntimeDialog</name>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="69"/>
        <source>GeoVL runtime</source>
        <translation>Environnement d'exécution de GeoVL</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="84"/>
        <source>Folder:</source>
        <translation>Dossier :</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="84"/>
        <source>Status:</source>
        <translation>État :</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="84"/>
        <source>Python:</source>
        <translation>Python :</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="84"/>
        <source>Device:</source>
        <translation>Périphérique de calcul :</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="84"/>
        <source>Install chooses:</source>
        <translation>L'installation choisit :</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="84"/>
        <source>Disk used:</source>
        <translation>Espace disque utilisé :</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="84"/>
        <source>Problems:</source>
        <translation>Problèmes :</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="91"/>
        <source>Package</source>
        <translation>Paquet</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="91"/>
        <source>Version</source>
        <translation>Version</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="107"/>
        <source>Install</source>
        <translation>Installer</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="108"/>
        <source>Repair</source>
        <translation>Réparer</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="109"/>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="131"/>
        <source>Packages:</source>
        <translation>Paquets :</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="134"/>
        <source>Installer log:</source>
        <translation>Journal de l'installateur :</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="285"/>
        <source>Checking…</source>
        <translation>Vérification…</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="288"/>
        <source>GeoVL: checking the runtime</source>
        <translation>GeoVL : vérification de l'environnement d'exécution</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="294"/>
        <source>Unknown</source>
        <translation>Inconnu</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="295"/>
        <source>The check was cancelled.</source>
        <translation>La vérification a été annulée.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="302"/>
        <source>Installed</source>
        <translation>Installé</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="302"/>
        <source>Not installed</source>
        <translation>Non installé</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="307"/>
        <source>None yet</source>
        <translation>Aucun pour l'instant</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="308"/>
        <source>Found once the runtime is installed</source>
        <translation>Détecté une fois l'environnement d'exécution installé</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="310"/>
        <source>Downloads about {0:.1f} GB.</source>
        <translation>Téléchargement d'environ {0:.1f} Go.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="314"/>
        <source>None</source>
        <translation>Aucun</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="336"/>
        <source>GeoVL: repairing the runtime</source>
        <translation>GeoVL : réparation de l'environnement d'exécution</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="336"/>
        <source>GeoVL: installing the runtime</source>
        <translation>GeoVL : installation de l'environnement d'exécution</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="341"/>
        <source>Repair cancelled.</source>
        <translation>Réparation annulée.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="341"/>
        <source>Install cancelled.</source>
        <translation>Installation annulée.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="344"/>
        <source>Repair failed: {0}</source>
        <translation>La réparation a échoué : {0}</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="344"/>
        <source>Install failed: {0}</source>
        <translation>L'installation a échoué : {0}</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="348"/>
        <source>Repair finished.</source>
        <translation>Réparation terminée.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="348"/>
        <source>Install finished.</source>
        <translation>Installation terminée.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="144"/>
        <source>Where GeoVL runs</source>
        <translation>Où GeoVL travaille</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="145"/>
        <source>This computer (the runtime below)</source>
        <translation>Cet ordinateur (l'environnement ci-dessous)</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="146"/>
        <source>A GeoVL server</source>
        <translation>Un serveur GeoVL</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="221"/>
        <source>stored; paste a new one to replace it</source>
        <translation>enregistré ; collez-en un nouveau pour le remplacer</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="154"/>
        <source>the token `python -m geovl.runtime.serve` printed</source>
        <translation>le jeton affiché par `python -m geovl.runtime.serve`</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="156"/>
        <source>Kept in QGIS&apos;s authentication database, never in project files.</source>
        <translation>Gardé dans la base d'authentification de QGIS, jamais dans les fichiers de projet.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="159"/>
        <source>Certificates (*.pem *.crt)</source>
        <translation>Certificats (*.pem *.crt)</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="160"/>
        <source>Only for a server whose certificate is its own (self-signed).</source>
        <translation>Seulement pour un serveur dont le certificat lui est propre (auto-signé).</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="161"/>
        <source>Connect</source>
        <translation>Se connecter</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="165"/>
        <source>Address:</source>
        <translation>Adresse :</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="166"/>
        <source>Token:</source>
        <translation>Jeton :</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="167"/>
        <source>Certificate:</source>
        <translation>Certificat :</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="190"/>
        <source>Jobs run on this computer.</source>
        <translation>Les traitements tournent sur cet ordinateur.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="199"/>
        <source>Connecting…</source>
        <translation>Connexion…</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="207"/>
        <source>GeoVL: connecting to the server</source>
        <translation>GeoVL : connexion au serveur</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="213"/>
        <source>The connection was cancelled.</source>
        <translation>La connexion a été annulée.</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/runtime_dialog.py" line="222"/>
        <source>Connected: jobs now run on {0} ({1} running there).</source>
        <translation>Connecté : les traitements tournent désormais sur {0} ({1} en cours là-bas).</translation>
    </message>
</context>
<context>
    <name>SegmentAlgorithm</name>
    <message>
        <location filename="../processing/segment.py" line="44"/>
        <source>Prompted segmentation (SAM)</source>
        <translation>Segmentation guidée par invites (SAM)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="57"/>
        <source>Segments objects such as roads and sidewalks with Segment Anything, over a whole raster layer.

Prompts: a vector layer of points (click on the object; a label field with 0 marks background points), polygons (their bounding boxes) or lines (points sampled along them, e.g. road centrelines from OpenStreetMap); a class field names the class of each prompt (road, sidewalk). A prior class raster gives sparse points per class and tile, as GeoSAM does. Text concepts (&quot;road; sidewalk&quot;) need a SAM 3 model.

The raster is cut into tiles of the model's input size. Each tile is encoded once and its embedding cached, so running again with new prompts on the same raster only decodes them (fast). Objects that cross tile borders come out as one polygon.

Models: sam-vit-b (default), sam-vit-l, sam-vit-h, sam2.1-hiera-tiny, sam2.1-hiera-large, sam3, a transformers SAM folder or hub id, or a segment-anything checkpoint file (.pth) of any size, such as GeoSAM's: its architecture is read from the file.

Outputs: polygons with class, score (the model's predicted IoU), area in m² and the prompt that made them; a class raster (0 = nothing); optionally the centre lines of the road class.</source>
        <translation>Segmente des objets tels que les routes et les trottoirs avec Segment Anything, sur toute une couche raster.

Invites : une couche vecteur de points (cliquez sur l'objet ; un champ d'étiquette à 0 marque les points de fond), de polygones (leurs rectangles englobants) ou de lignes (des points échantillonnés le long de celles-ci, par exemple des axes de routes issus d'OpenStreetMap) ; un champ de classe donne la classe de chaque invite (road, sidewalk). Un raster de classes a priori fournit des points épars par classe et par tuile, comme le fait GeoSAM. Les concepts textuels (« road; sidewalk ») nécessitent un modèle SAM 3.

Le raster est découpé en tuiles de la taille d'entrée du modèle. Chaque tuile est encodée une seule fois et son plongement mis en cache : relancer avec de nouvelles invites sur le même raster ne fait que les décoder (rapide). Un objet qui traverse la limite entre deux tuiles donne un seul polygone.

Modèles : sam-vit-b (par défaut), sam-vit-l, sam-vit-h, sam2.1-hiera-tiny, sam2.1-hiera-large, sam3, un dossier ou un identifiant du hub d'un SAM transformers, ou un fichier de poids segment-anything (.pth) de n'importe quelle taille, comme celui de GeoSAM : son architecture est lue dans le fichier.

Sorties : des polygones avec leur classe, leur score (l'IoU prédite par le modèle), leur surface en m² et l'invite qui les a produits ; un raster de classes (0 = rien) ; en option, les axes de la classe des routes.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="74"/>
        <source>Raster layer</source>
        <translation>Couche raster</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="114"/>
        <source>SAM checkpoint type</source>
        <translation>Type du fichier de poids SAM</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="87"/>
        <source>Segments</source>
        <translation>Objets segmentés</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="89"/>
        <source>Class raster</source>
        <translation>Raster de classes</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="137"/>
        <source>Road centre lines</source>
        <translation>Axes des routes</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="146"/>
        <source>Choose a raster layer (INPUT).</source>
        <translation>Choisissez une couche raster (INPUT).</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="155"/>
        <source>Give something to segment: a prompt layer (PROMPTS), a prior class raster (PRIOR) or text concepts (TEXT, with a SAM 3 model).</source>
        <translation>Indiquez quoi segmenter : une couche d'invites (PROMPTS), un raster de classes a priori (PRIOR) ou des concepts textuels (TEXT, avec un modèle SAM 3).</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="224"/>
        <source>The prompt layer has no coordinate reference system. Set it (Layer Properties &gt; Source) and run again.</source>
        <translation>La couche d'invites n'a pas de système de coordonnées de référence. Définissez-le (Propriétés de la couche &gt; Source) puis relancez.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="231"/>
        <source>The prompt layer has no field &apos;{}&apos; ({}); its fields are: {}.</source>
        <translation>La couche d'invites n'a pas de champ « {} » ({}) ; ses champs sont : {}.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="249"/>
        <source>Feature {} has label {!r} in the field {}; use 1 for the object and 0 for background.</source>
        <translation>L'entité {} a l'étiquette {!r} dans le champ {} ; utilisez 1 pour l'objet et 0 pour le fond.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="268"/>
        <source>None of the prompts can be transformed from the prompt layer&apos;s CRS ({}) to the raster&apos;s ({}). Check that the prompt layer&apos;s CRS is right.</source>
        <translation>Aucune invite ne peut être transformée du SCR de la couche d'invites ({}) vers celui du raster ({}). Vérifiez que le SCR de la couche d'invites est le bon.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="272"/>
        <source>Features {} of the prompt layer cannot be transformed to the raster&apos;s CRS and were skipped.</source>
        <translation>Les entités {} de la couche d'invites ne peuvent pas être transformées vers le SCR du raster et ont été ignorées.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="276"/>
        <source>The prompt layer has no features with a geometry.</source>
        <translation>La couche d'invites n'a aucune entité avec une géométrie.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="152"/>
        <source>The prompt layer (PROMPTS) has no features with a geometry: add points, polygons or lines on what to segment, or give a prior class raster (PRIOR) or text concepts (TEXT).</source>
        <translation>La couche d'invites (PROMPTS) n'a aucune entité avec une géométrie : ajoutez des points, polygones ou lignes sur ce qu'il faut segmenter, ou donnez un raster de classes a priori (PRIOR) ou des concepts textuels (TEXT).</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="221"/>
        <source>The prompt layer has no features.</source>
        <translation>La couche d'invites n'a aucune entité.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="47"/>
        <source>Map objects and changes</source>
        <translation>Cartographie des objets et des changements</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="53"/>
        <source>segment,segmentation,sam,segment anything,geosam,mask,roads,sidewalks,prompts,points,boxes,polygons,extraction</source>
        <translation>segmenter,segmentation,sam,segment anything,geosam,masque,routes,trottoirs,invites,points,boîtes,polygones,extraction,roads,sidewalks,prompts</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="95"/>
        <source>Prompts</source>
        <translation>Invites</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="95"/>
        <source>A vector layer: points on the objects, polygons (their bounding boxes) or lines (points along them, e.g. road centre lines).</source>
        <translation>Une couche vecteur : des points sur les objets, des polygones (leurs rectangles englobants) ou des lignes (des points le long de celles-ci, par ex. des axes de routes).</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="99"/>
        <source>Label field</source>
        <translation>Champ d'étiquette</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="99"/>
        <source>1 for a point on an object, 0 for a background point; default: every prompt is an object.</source>
        <translation>1 pour un point sur un objet, 0 pour un point de fond ; par défaut : chaque invite est un objet.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="102"/>
        <source>Class field</source>
        <translation>Champ de classe</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="102"/>
        <source>The class of each prompt (road, sidewalk); default: one class.</source>
        <translation>La classe de chaque invite (road, sidewalk) ; par défaut : une seule classe.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="76"/>
        <source>Prior class raster</source>
        <translation>Raster de classes a priori</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="76"/>
        <source>A class raster (an earlier GeoVL result): sparse point prompts are sampled from it per class and tile, as GeoSAM does.</source>
        <translation>Un raster de classes (un résultat GeoVL antérieur) : des invites ponctuelles éparses y sont échantillonnées par classe et par tuile, comme le fait GeoSAM.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="109"/>
        <source>Text concepts (SAM 3)</source>
        <translation>Concepts textuels (SAM 3)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="109"/>
        <source>Concepts to segment, separated by ; (&quot;road; sidewalk&quot;); a SAM 3 model only.</source>
        <translation>Concepts à segmenter, séparés par ; (« road; sidewalk ») ; avec un modèle SAM 3 uniquement.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="116"/>
        <source>Refine masks (second pass)</source>
        <translation>Affiner les masques (seconde passe)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="121"/>
        <source>Smallest polygon (m²)</source>
        <translation>Plus petit polygone (m²)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="121"/>
        <source>Polygons smaller than this are dropped; not set: the area of {} pixels at the raster&apos;s resolution; 0 keeps them all.</source>
        <translation>Les polygones plus petits sont écartés ; non défini : la surface de {} pixels à la résolution du raster ; 0 les garde tous.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="126"/>
        <source>Simplify (map units)</source>
        <translation>Simplification (unités de carte)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="126"/>
        <source>Simplification tolerance of the polygons, in the raster&apos;s map units; 0: none.</source>
        <translation>Tolérance de simplification des polygones, dans les unités de carte du raster ; 0 : aucune.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="82"/>
        <source>Line prompt spacing (m)</source>
        <translation>Espacement sur les invites linéaires (m)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="82"/>
        <source>Metres between the points sampled along line prompts; 0: every 32 pixels.</source>
        <translation>Mètres entre les points échantillonnés le long des invites linéaires ; 0 : tous les 32 pixels.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="132"/>
        <source>Centre-line class</source>
        <translation>Classe des axes</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="132"/>
        <source>The class whose centre lines the optional centre-line output draws.</source>
        <translation>La classe dont la sortie facultative des axes trace les axes.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="166"/>
        <source>segmenting</source>
        <translation>segmentation</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="116"/>
        <source>Decode each mask a second time with the first pass&apos;s result as a dense prompt (GeoSAM&apos;s refinement). It doubles the decoding time: for thousands of prompts on a CPU without native bf16, turn it off.</source>
        <translation>Décode chaque masque une seconde fois, avec le résultat de la première passe comme invite dense (le raffinement de GeoSAM). Cela double le temps de décodage : pour des milliers d’invites sur un processeur sans bf16 natif, désactivez-le.</translation>
    </message>
</context>
<context>
    <name>SegmentArchiveAlgorithm</name>
    <message>
        <location filename="../processing/segment_archive.py" line="21"/>
        <source>Prompted segmentation of an archive (SAM)</source>
        <translation>Segmentation guidée par invites d'une archive (SAM)</translation>
    </message>
    <message>
        <location filename="../processing/segment_archive.py" line="24"/>
        <source>segment,segmentation,sam,archive,mosaic,sheets,stac,vrt,roads,ray,cluster,batch</source>
        <translation>segmenter,segmentation,sam,archive,mosaïque,dalles,stac,vrt,routes,ray,cluster,lot,segment,mosaic,sheets,roads,batch</translation>
    </message>
    <message>
        <location filename="../processing/segment_archive.py" line="27"/>
        <source>Segments objects such as roads with Segment Anything over every raster of an archive (the sheets of an orthophoto mosaic, the scenes of a STAC ItemCollection), into one layer.

Each raster is segmented as Prompted segmentation (SAM) segments one raster, with the prompts that fall on it: points, polygons (their bounding boxes) or lines of the prompt layer, or text concepts for a SAM 3 model. Every polygon records its raster.

The rasters are segmented on Ray: a local Ray instance on this machine, or the cluster at the Ray address (ray://host:10001; default RAY_ADDRESS), one raster per task and one copy of the model per worker. A run that is cancelled or stopped goes on, when run again, with the rasters it had not finished.

Outputs: polygons with their raster, class, score, area in m² and prompt; optionally the centre lines of the road class.</source>
        <translation>Segmente des objets tels que les routes avec Segment Anything sur chacun des rasters d'une archive (les dalles d'une mosaïque d'orthophotos, les scènes d'un STAC ItemCollection), dans une seule couche.

Chaque raster est segmenté comme le fait Segmentation guidée par invites (SAM) pour un seul raster, avec les invites situées sur son emprise : les points, polygones (leurs rectangles englobants) ou lignes de la couche d'invites, ou des concepts textuels pour un modèle SAM 3. Chaque polygone enregistre son raster.

Les rasters sont segmentés sur Ray : une instance Ray locale sur cette machine, ou le cluster à l'adresse Ray (ray://host:10001 ; par défaut RAY_ADDRESS), avec un raster par tâche et une copie du modèle par worker. Une exécution annulée ou interrompue reprend, quand on la relance, avec les rasters qu'elle n'avait pas terminés.

Sorties : des polygones avec leur raster, leur classe, leur score, leur surface en m² et leur invite ; en option, les axes de la classe des routes.</translation>
    </message>
    <message>
        <location filename="../processing/segment_archive.py" line="46"/>
        <source>Segments</source>
        <translation>Objets segmentés</translation>
    </message>
    <message>
        <location filename="../processing/segment_archive.py" line="49"/>
        <source>Rasters segmented</source>
        <translation>Rasters segmentés</translation>
    </message>
    <message>
        <location filename="../processing/segment_archive.py" line="57"/>
        <source>Give something to segment: a prompt layer (PROMPTS) or text concepts (TEXT, with a SAM 3 model).</source>
        <translation>Indiquez quoi segmenter : une couche d'invites (PROMPTS) ou des concepts textuels (TEXT, avec un modèle SAM 3).</translation>
    </message>
    <message>
        <location filename="../processing/segment_archive.py" line="62"/>
        <source>segmenting the archive</source>
        <translation>segmentation de l'archive</translation>
    </message>
    <message>
        <location filename="../processing/segment_archive.py" line="71"/>
        <source>{} regions from {} rasters ({} segmented in this run, {} by an earlier one).</source>
        <translation>{} zones issues de {} rasters ({} segmentés lors de cette exécution, {} lors d'une exécution précédente).</translation>
    </message>
</context>
</TS>
